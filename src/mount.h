// `zenfs mount` and `zenfs umount`: checks, daemonizing, and handing the tree to FUSE.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "store/status.h"

namespace zenfs {

class S3Client;

// Exit codes of SPEC §5.
inline constexpr int kExitOk = 0;
inline constexpr int kExitUsage = 1;
inline constexpr int kExitStore = 2;
inline constexpr int kExitMount = 3;

// Artifacts in S3 (issue 15): where requests go, whose credentials sign them, the cache.
struct S3Args {
  std::string endpoint;          // --s3-endpoint URL ("": the environment's, else AWS)
  std::string region;            // --s3-region
  std::string aws_profile;       // --aws-profile (-o aws_profile=): a profile of the shared files
  std::string credentials_file;  // --credentials-file (-o credentials_file=)
  std::string cache_dir;         // --cache-dir ("": DefaultCacheDir())
  std::uint64_t cache_size = 10ull << 30;  // --cache-size
  bool no_cache = false;                   // --no-cache
  double timeout_seconds = 10;             // --s3-timeout: connect/stall bound of one request
};

// An S3 client as a mount makes one (credentials chain, timeouts), for `zenfs demo
// --artifact-store`: requests go to `endpoint` ("": as for a mount without a store's word).
Result<std::shared_ptr<S3Client>> MakeS3Client(const S3Args& args, const std::string& endpoint);

// What opening a store takes besides STORE.
struct StoreArgs {
  std::vector<std::string> artifact_roots;  // OLD=NEW
  std::string project;                      // --project: a name or an id ("": SPEC §1's default)
  std::string password_file;                // --password-file: a MySQL store's password
  std::string api_key_file;                 // --api-key-file: a ZenML server's API key
  bool insecure = false;                    // --insecure: a ZenML server's TLS is not verified
  std::string ca_file;                      // --ca-file: the CA bundle a ZenML server is checked against
  // The folder relative TLS files (ssl_ca, ssl_cert, ssl_key of a MySQL store) are found
  // in: the caller's, kept for a daemon that has left it ("": the current folder).
  std::string base_dir;
  S3Args s3;
  double rest_timeout_seconds = 10;         // --rest-timeout: a ZenML server's connect/stall bound
};

struct MountArgs {
  std::optional<std::string> store;
  std::string mountpoint;
  bool foreground = false;
  bool debug = false;
  std::vector<std::string> options;         // -o values, comma lists not yet split
  std::vector<std::string> artifact_roots;  // OLD=NEW
  double refresh_seconds = 2.0;
  int threads = 8;  // FUSE worker threads
  std::string log_level = "info";
  std::string project;        // --project: a name or an id ("": SPEC §1's default choice)
  std::string password_file;  // --password-file: a MySQL store's password, off the command line
  std::string api_key_file;   // --api-key-file: a ZenML server's API key, off the command line
  bool insecure = false;      // --insecure
  std::string ca_file;        // --ca-file
  S3Args s3;
  double rest_timeout_seconds = 10;  // --rest-timeout
};

int MountCommand(const MountArgs& args);
int UmountCommand(const std::string& mountpoint);
// `zenfs ls STORE [PATH]`: the tree below PATH, one mount path per line, like find.
int LsCommand(const std::optional<std::string>& store, const std::string& path, const StoreArgs& args);

}  // namespace zenfs
