// Persistence in a directory (kslice-apiserver --data-dir): an append-only log of
// committed writes, compacted to the live objects when opened.
//
//   absl::StatusOr<std::unique_ptr<FilePersistence>> p =
//       FilePersistence::Open("/var/lib/kslice", ResourceRegistry::Builtin());
//   StoreOptions o; o.persistence = p->get();
//   auto store = Store::Open(o);   // replays the log: same objects, same resourceVersion
//
// Record format (little endian): u32 length of the rest, u64 resourceVersion, u8 type
// (0 added, 1 modified, 2 deleted), then NUL-terminated group, resource and key, then
// the object's protobuf bytes (absent for deletes), then a u32 FNV-1a checksum of
// everything after the length. A torn last record (the process
// died mid-write) is dropped at open; a bad checksum elsewhere is an error (the file
// is not ours, or it was damaged).
//
// Each Append is written and flushed to the kernel before the write becomes visible
// (a crashed process loses nothing); there is no fsync, so a power loss may lose the
// last writes. Not for production data: this is a test and lab server.
#ifndef KSLICE_ENVTEST_STORAGE_FILE_PERSISTENCE_H_
#define KSLICE_ENVTEST_STORAGE_FILE_PERSISTENCE_H_

#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "envtest/storage/persistence.h"
#include "envtest/storage/resource.h"

namespace kslice::envtest::storage {

class FilePersistence : public Persistence {
 public:
  // Creates the directory if needed and takes an exclusive lock on it (a second
  // server on the same directory fails). The registry must outlive this object.
  static absl::StatusOr<std::unique_ptr<FilePersistence>> Open(const std::string& dir,
                                                              const ResourceRegistry& registry);
  ~FilePersistence() override;

  absl::Status Append(const PersistedWrite& write) override;
  absl::Status Load(const std::function<absl::Status(const PersistedWrite&)>& apply) override;

  const std::string& path() const { return path_; }

 private:
  FilePersistence(std::string path, const ResourceRegistry& registry, int lock_fd);
  absl::Status ReadAll(std::vector<PersistedWrite>* out);
  absl::Status Rewrite(const std::vector<PersistedWrite>& records);

  const std::string path_;
  const ResourceRegistry& registry_;
  int lock_fd_;
  std::mutex mu_;
  FILE* out_ = nullptr;  // guarded by mu_
};

}  // namespace kslice::envtest::storage

#endif  // KSLICE_ENVTEST_STORAGE_FILE_PERSISTENCE_H_
