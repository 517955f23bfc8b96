// AES-256-GCM boxes for secrets at rest, and the master key file they are sealed under.
// The key file is created without a window in which another process could see it half written.
#include "pganalytics/security/secret_box.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "pganalytics/security/openssl_util.hpp"
#include "pganalytics/security/random.hpp"

namespace pga::security {
namespace {

constexpr char kVersion = 0x01;
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr std::size_t kHeaderBytes = 1 + kNonceBytes;
// Boxes hold keys and certificates; the bound keeps every length within OpenSSL's int.
constexpr std::size_t kMaxPlaintextBytes = 16 << 20;

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }
int length(std::string_view s) { return static_cast<int>(s.size()); }

void check_master_key(std::string_view key) {
  if (key.size() != kMasterKeyBytes) throw std::invalid_argument("a master key must be exactly 32 bytes");
}

// The version byte is authenticated together with the context, so neither can be swapped.
std::string associated_data(std::string_view context) { return kVersion + std::string(context); }

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

[[noreturn]] void file_error(const std::filesystem::path& path, std::string_view problem) {
  throw std::runtime_error(fmt::format("master key file {}: {}", path.string(), problem));
}

[[noreturn]] void file_errno(const std::filesystem::path& path) { file_error(path, std::strerror(errno)); }

void check_key_file(const std::filesystem::path& path, const struct stat& status) {
  if (!S_ISREG(status.st_mode)) file_error(path, "is not a regular file");
  if ((status.st_mode & 077) != 0)
    file_error(path, fmt::format("has mode {:04o}; it must not be accessible to group or others (chmod 600 it)",
                                 status.st_mode & 07777));
  if (status.st_size != static_cast<off_t>(kMasterKeyBytes))
    file_error(path, fmt::format("holds {} bytes; a master key is exactly {}", status.st_size, kMasterKeyBytes));
}

std::optional<std::string> read_master_key(const std::filesystem::path& path) {
  const FileDescriptor fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (fd.get() < 0) {
    if (errno == ENOENT) return std::nullopt;
    file_errno(path);
  }
  struct stat status {};
  if (::fstat(fd.get(), &status) != 0) file_errno(path);
  check_key_file(path, status);
  std::string key(kMasterKeyBytes, '\0');
  if (::read(fd.get(), key.data(), key.size()) != static_cast<ssize_t>(key.size())) file_error(path, "short read");
  return key;
}

// Removes the temporary file however creation ends; after link() it is a second name only.
struct RemoveOnExit {
  const std::filesystem::path& path;
  ~RemoveOnExit() {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
  }
};

void write_new_key(const std::filesystem::path& temporary) {
  const FileDescriptor fd{::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)};
  if (fd.get() < 0) file_errno(temporary);
  const std::string key = random_bytes(kMasterKeyBytes);
  if (::write(fd.get(), key.data(), key.size()) != static_cast<ssize_t>(key.size())) file_error(temporary, "short write");
  if (::fsync(fd.get()) != 0) file_errno(temporary);
}

void create_master_key(const std::filesystem::path& path) {
  const std::filesystem::path temporary = path.string() + ".tmp-" + hex(random_bytes(8));
  const RemoveOnExit cleanup{temporary};
  write_new_key(temporary);
  // link() never replaces: if another process got there first, its key is the one to use.
  if (::link(temporary.c_str(), path.c_str()) != 0 && errno != EEXIST) file_errno(path);
  const std::filesystem::path directory = path.has_parent_path() ? path.parent_path() : ".";
  const FileDescriptor dir{::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)};
  if (dir.get() >= 0) ::fsync(dir.get());  // best effort: the name survives a crash
}

}  // namespace

std::string seal(std::string_view master_key, std::string_view plaintext, std::string_view context) {
  check_master_key(master_key);
  if (plaintext.size() > kMaxPlaintextBytes || context.size() > kMaxPlaintextBytes)
    throw std::invalid_argument("secret box: input too large");
  const std::string nonce = random_bytes(kNonceBytes);
  const std::string aad = associated_data(context);
  std::string box(kHeaderBytes + plaintext.size(), '\0');
  box[0] = kVersion;
  box.replace(1, kNonceBytes, nonce);
  std::string tag(kTagBytes, '\0');
  const ossl::CipherCtx ctx{EVP_CIPHER_CTX_new()};
  int written = 0;
  int final_bytes = 0;
  if (!ctx || EVP_EncryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), bytes(master_key), bytes(nonce), nullptr) != 1 ||
      EVP_EncryptUpdate(ctx.get(), nullptr, &written, bytes(aad), length(aad)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), bytes(box) + kHeaderBytes, &written, bytes(plaintext), length(plaintext)) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), bytes(box) + kHeaderBytes + written, &final_bytes) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagBytes), tag.data()) != 1)
    ossl::fail("sealing a secret");
  return base64url_encode(box + tag);
}

std::optional<std::string> open(std::string_view master_key, std::string_view sealed, std::string_view context) {
  check_master_key(master_key);
  if (sealed.size() > 2 * kMaxPlaintextBytes) return std::nullopt;
  const auto box = base64url_decode(sealed);
  if (!box || box->size() < kHeaderBytes + kTagBytes || (*box)[0] != kVersion) return std::nullopt;
  const std::string_view whole(*box);
  const std::string_view nonce = whole.substr(1, kNonceBytes);
  const std::string_view ciphertext = whole.substr(kHeaderBytes, whole.size() - kHeaderBytes - kTagBytes);
  std::string tag(whole.substr(whole.size() - kTagBytes));
  const std::string aad = associated_data(context);
  std::string plaintext(ciphertext.size(), '\0');
  const ossl::CipherCtx ctx{EVP_CIPHER_CTX_new()};
  if (!ctx) ossl::fail("opening a secret");
  int written = 0;
  int final_bytes = 0;
  const bool authentic =
      EVP_DecryptInit_ex2(ctx.get(), EVP_aes_256_gcm(), bytes(master_key), bytes(nonce), nullptr) == 1 &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &written, bytes(aad), length(aad)) == 1 &&
      EVP_DecryptUpdate(ctx.get(), bytes(plaintext), &written, bytes(ciphertext), length(ciphertext)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagBytes), tag.data()) == 1 &&
      EVP_DecryptFinal_ex(ctx.get(), bytes(plaintext) + written, &final_bytes) == 1;
  if (!authentic) {
    ossl::discard_errors();
    return std::nullopt;
  }
  return plaintext;
}

std::string load_or_create_master_key(const std::filesystem::path& path) {
  if (auto key = read_master_key(path)) return std::move(*key);
  create_master_key(path);
  if (auto key = read_master_key(path)) return std::move(*key);
  file_error(path, "disappeared right after it was created");
}

}  // namespace pga::security
