// The one translation unit that compiles Asio, Asio SSL and Beast (separate compilation, see
// CMakeLists.txt): every other file includes their headers without the implementation.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
