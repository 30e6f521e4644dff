#include "envtest/storage/file_persistence.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace kslice::envtest::storage {
namespace {

constexpr char kLogName[] = "objects.log";

uint32_t Fnv1a(const char* data, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 16777619u;
  }
  return h;
}

void PutU32(std::string* s, uint32_t v) {
  for (int i = 0; i < 4; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void PutU64(std::string* s, uint64_t v) {
  for (int i = 0; i < 8; ++i) s->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
uint64_t GetLe(const char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

std::string Encode(const PersistedWrite& w) {
  std::string body;
  PutU64(&body, w.resource_version);
  body.push_back(static_cast<char>(w.type == EventType::kAdded      ? 0
                                   : w.type == EventType::kModified ? 1
                                                                    : 2));
  body.append(w.resource.group).push_back('\0');
  body.append(w.resource.resource).push_back('\0');
  body.append(w.key).push_back('\0');
  if (w.object != nullptr) body.append(w.object->SerializeAsString());
  PutU32(&body, Fnv1a(body.data(), body.size()));
  std::string rec;
  PutU32(&rec, static_cast<uint32_t>(body.size()));
  rec.append(body);
  return rec;
}

}  // namespace

FilePersistence::FilePersistence(std::string path, const ResourceRegistry& registry, int lock_fd)
    : path_(std::move(path)), registry_(registry), lock_fd_(lock_fd) {}

FilePersistence::~FilePersistence() {
  if (out_ != nullptr) fclose(out_);
  if (lock_fd_ >= 0) close(lock_fd_);
}

absl::StatusOr<std::unique_ptr<FilePersistence>> FilePersistence::Open(
    const std::string& dir, const ResourceRegistry& registry) {
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::InternalError(absl::StrCat("cannot create ", dir, ": ", strerror(errno)));
  }
  std::string lock_path = dir + "/lock";
  int fd = open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::InternalError(absl::StrCat("cannot open ", lock_path, ": ", strerror(errno)));
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat(dir, " is in use by another kslice-apiserver"));
  }
  return std::unique_ptr<FilePersistence>(
      new FilePersistence(dir + "/" + kLogName, registry, fd));
}

absl::Status FilePersistence::ReadAll(std::vector<PersistedWrite>* out) {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return absl::OkStatus();  // a new directory
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string data = ss.str();
  size_t pos = 0;
  while (pos < data.size()) {
    if (data.size() - pos < 4) break;  // torn length
    uint32_t len = static_cast<uint32_t>(GetLe(data.data() + pos, 4));
    if (data.size() - pos - 4 < len) break;  // torn record
    const char* body = data.data() + pos + 4;
    if (len < 8 + 1 + 3 + 4) return absl::DataLossError(absl::StrCat(path_, ": bad record"));
    uint32_t sum = static_cast<uint32_t>(GetLe(body + len - 4, 4));
    if (Fnv1a(body, len - 4) != sum) {
      if (pos + 4 + len == data.size()) break;  // torn last record
      return absl::DataLossError(absl::StrCat(path_, ": checksum mismatch at offset ", pos));
    }
    PersistedWrite w;
    w.resource_version = GetLe(body, 8);
    int type = static_cast<unsigned char>(body[8]);
    if (type > 2) return absl::DataLossError(absl::StrCat(path_, ": bad record type"));
    w.type = type == 0 ? EventType::kAdded : type == 1 ? EventType::kModified : EventType::kDeleted;
    std::string_view rest(body + 9, len - 9 - 4);
    std::string parts[3];
    for (std::string& p : parts) {
      size_t nul = rest.find('\0');
      if (nul == std::string_view::npos) {
        return absl::DataLossError(absl::StrCat(path_, ": bad record"));
      }
      p.assign(rest.substr(0, nul));
      rest.remove_prefix(nul + 1);
    }
    w.resource = {parts[0], parts[1]};
    w.key = parts[2];
    if (w.type != EventType::kDeleted) {
      const ResourceConfig* c = registry_.Find(w.resource);
      if (c == nullptr) {
        return absl::DataLossError(
            absl::StrCat(path_, ": records of an unknown resource ", w.resource.String()));
      }
      std::unique_ptr<google::protobuf::Message> obj(c->prototype->New());
      if (!obj->ParseFromArray(rest.data(), static_cast<int>(rest.size()))) {
        return absl::DataLossError(absl::StrCat(path_, ": undecodable object ", w.key));
      }
      w.object = Object(std::move(obj));
    }
    out->push_back(std::move(w));
    pos += 4 + len;
  }
  return absl::OkStatus();
}

absl::Status FilePersistence::Rewrite(const std::vector<PersistedWrite>& records) {
  std::string tmp = path_ + ".tmp";
  FILE* f = fopen(tmp.c_str(), "wb");
  if (f == nullptr) return absl::InternalError(absl::StrCat("cannot write ", tmp));
  for (const PersistedWrite& w : records) {
    std::string rec = Encode(w);
    if (fwrite(rec.data(), 1, rec.size(), f) != rec.size()) {
      fclose(f);
      return absl::InternalError(absl::StrCat("cannot write ", tmp));
    }
  }
  if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
    fclose(f);
    return absl::InternalError(absl::StrCat("cannot write ", tmp));
  }
  fclose(f);
  if (rename(tmp.c_str(), path_.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot replace ", path_, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

absl::Status FilePersistence::Load(
    const std::function<absl::Status(const PersistedWrite&)>& apply) {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<PersistedWrite> records;
  if (absl::Status s = ReadAll(&records); !s.ok()) return s;
  // Compact: the last state of every live object, in RV order, plus the last record
  // when it is a delete (so the RV carries on).
  std::map<std::pair<std::string, std::string>, size_t> last;  // (resource, key) -> index
  for (size_t i = 0; i < records.size(); ++i) {
    last[{records[i].resource.String(), records[i].key}] = i;
  }
  std::vector<PersistedWrite> compact;
  std::vector<size_t> keep;
  for (const auto& [k, i] : last) {
    if (records[i].type != EventType::kDeleted) keep.push_back(i);
  }
  std::sort(keep.begin(), keep.end());
  for (size_t i : keep) {
    PersistedWrite w = records[i];
    w.type = EventType::kAdded;
    compact.push_back(std::move(w));
  }
  if (!records.empty() && records.back().type == EventType::kDeleted) {
    compact.push_back(records.back());
  }
  if (compact.size() != records.size()) {
    if (absl::Status s = Rewrite(compact); !s.ok()) return s;
  }
  for (const PersistedWrite& w : compact) {
    if (absl::Status s = apply(w); !s.ok()) return s;
  }
  out_ = fopen(path_.c_str(), "ab");
  if (out_ == nullptr) return absl::InternalError(absl::StrCat("cannot append to ", path_));
  return absl::OkStatus();
}

absl::Status FilePersistence::Append(const PersistedWrite& write) {
  std::lock_guard<std::mutex> l(mu_);
  if (out_ == nullptr) {
    out_ = fopen(path_.c_str(), "ab");
    if (out_ == nullptr) return absl::InternalError(absl::StrCat("cannot append to ", path_));
  }
  std::string rec = Encode(write);
  if (fwrite(rec.data(), 1, rec.size(), out_) != rec.size() || fflush(out_) != 0) {
    return absl::UnavailableError(absl::StrCat("cannot write to ", path_, ": ", strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace kslice::envtest::storage
