# Installed layout (CONTRACT §7) and the .deb / .rpm packages built by CPack:
# `cmake --build build --target package` or `cd build && cpack -G DEB` / `cpack -G RPM`.
install(FILES ${CMAKE_SOURCE_DIR}/conf/server.toml ${CMAKE_SOURCE_DIR}/conf/agent.toml
        DESTINATION /etc/pganalytics)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/systemd/pganalytics-server.service
              ${CMAKE_SOURCE_DIR}/packaging/systemd/pganalytics-agent.service
        DESTINATION /lib/systemd/system)
install(DIRECTORY DESTINATION /var/lib/pganalytics/server)
install(DIRECTORY DESTINATION /var/lib/pganalytics/agent)

set(CPACK_PACKAGE_NAME pganalytics)
set(CPACK_PACKAGE_VENDOR "pganalytics")
set(CPACK_PACKAGE_CONTACT "pganalytics maintainers <maintainers@pganalytics.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "PostgreSQL monitoring: agent and server in one executable")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION database)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libc6 (>= 2.36), libpq5, libssl3, zlib1g, libargon2-1, passwd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${CMAKE_SOURCE_DIR}/packaging/debian/postinst
                                      ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_RPM_FILE_NAME RPM-DEFAULT)
set(CPACK_RPM_PACKAGE_LICENSE "PostgreSQL")
set(CPACK_RPM_PACKAGE_REQUIRES "libpq, openssl-libs, zlib, libargon2, shadow-utils")
set(CPACK_RPM_POST_INSTALL_SCRIPT_FILE ${CMAKE_SOURCE_DIR}/packaging/debian/postinst)
set(CPACK_RPM_USER_FILELIST "%config(noreplace) /etc/pganalytics/server.toml" "%config(noreplace) /etc/pganalytics/agent.toml")
set(CPACK_RPM_EXCLUDE_FROM_AUTO_FILELIST_ADDITION /etc/pganalytics /lib/systemd /lib/systemd/system /var /var/lib)
include(CPack)
