#include "src/cli.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstring>

#include <cstdint>
#include <iterator>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "src/cache_command.h"
#include "src/mount.h"
#include "src/options.h"
#include "demo/demo_writer.h"
#include "demo/mysql_copy.h"

#ifndef ZENFS_VERSION
#define ZENFS_VERSION "dev"
#endif

namespace zenfs {

namespace {

// "64M", "1G", "1024", "3K": binary multiples. False for anything else or an overflow.
bool ParseBytes(const std::string& text, std::uint64_t* out) {
  if (text.empty()) return false;
  std::size_t pos = 0;
  std::uint64_t v = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    const std::uint64_t d = static_cast<std::uint64_t>(text[pos] - '0');
    if (v > (UINT64_MAX - d) / 10) return false;
    v = v * 10 + d;
    ++pos;
  }
  if (pos == 0) return false;
  std::string unit = text.substr(pos);
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  if (!unit.empty() && (unit.back() == 'i')) unit.pop_back();
  int shift = 0;
  if (unit.empty()) shift = 0;
  else if (unit == "K" || unit == "k") shift = 10;
  else if (unit == "M" || unit == "m") shift = 20;
  else if (unit == "G" || unit == "g") shift = 30;
  else return false;
  if (shift != 0 && v > (UINT64_MAX >> shift)) return false;
  *out = v << shift;
  return true;
}

// The long options of `mount`, for the `-o` spellings (options.h).
std::vector<LongOption> LongOptionsOf(const CLI::App& cmd) {
  std::vector<LongOption> out;
  for (const CLI::Option* o : cmd.get_options()) {
    for (const std::string& name : o->get_lnames()) {
      if (name != "help") out.push_back({name, o->get_type_size_max() > 0});
    }
  }
  return out;
}

constexpr const char* kSubcommands[] = {"mount", "umount", "demo", "ls", "cache"};

// `zenfs STORE MOUNTPOINT [-o OPTS]`, the form mount.fuse3 runs for `mount -t fuse.zenfs`
// and fstab lines, is `zenfs mount STORE MOUNTPOINT ...`: two leading arguments that are
// not options, the first not a subcommand's name, are a store and a mountpoint (so a
// mistyped `zenfs lss` is still a usage error). A store folder literally named `mount`,
// `ls`, ... is written `./mount` in that form.
std::vector<std::string> Arguments(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  auto positional = [&](std::size_t i) { return i < args.size() && !args[i].empty() && args[i][0] != '-'; };
  if (positional(0) && positional(1) &&
      std::find(std::begin(kSubcommands), std::end(kSubcommands), args[0]) == std::end(kSubcommands)) {
    args.insert(args.begin(), "mount");
  }
  return args;
}

// Overwrites the password of every `scheme://user:password@host...` argument in place,
// once the arguments are copied: /proc/PID/cmdline shows a process's argument memory to
// every user of the machine, for as long as the (daemon) process lives. A short window
// remains between exec and this call; --password-file has none.
void ScrubPasswords(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    char* a = argv[i];
    char* scheme_end = std::strstr(a, "://");
    if (scheme_end == nullptr) continue;
    char* authority = scheme_end + 3;
    // As ParseMysqlUrl splits it: the authority ends at the first '/' or '?', and the
    // user and password end at its last '@' (a password may hold an unescaped '@').
    char* end = authority + std::strcspn(authority, "/?");
    char* at = nullptr;
    for (char* c = authority; c < end; ++c) {
      if (*c == '@') at = c;
    }
    if (at == nullptr) continue;
    char* colon = std::strchr(authority, ':');
    if (colon == nullptr || colon > at) continue;
    for (char* c = colon + 1; c < at; ++c) *c = 'x';
  }
}

// --rest-timeout of `mount` and `ls`.
void AddRestTimeout(CLI::App* cmd, double* seconds) {
  cmd->add_option("--rest-timeout", *seconds,
                  "seconds a ZenML server's request may wait to connect or for a byte (default 10); after two "
                  "retries: EIO")
      ->check(CLI::Range(0.1, 3600.0));
}

// The S3 options of `mount` (and, without the cache ones, of `ls`, which reads no bytes).
void AddS3Options(CLI::App* cmd, S3Args* s3, std::string* cache_size, bool with_cache) {
  cmd->add_option("--s3-endpoint", s3->endpoint,
                  "URL of the S3 endpoint (MinIO, Ceph, ...); default: the store's client_kwargs on a "
                  "private mount, else AWS_ENDPOINT_URL(_S3), else AWS");
  cmd->add_option("--s3-region", s3->region, "the S3 region; default: the store's on a private mount, else AWS_REGION, else "
                  "us-east-1");
  cmd->add_option("--aws-profile", s3->aws_profile, "the AWS profile of the shared credentials files");
  cmd->add_option("--credentials-file", s3->credentials_file,
                  "the AWS shared credentials file (default ~/.aws/credentials)");
  cmd->add_option("--s3-timeout", s3->timeout_seconds,
                  "seconds an S3 request may wait to connect or for a byte (default 10): then EIO")
      ->check(CLI::Range(0.1, 3600.0));
  if (!with_cache) return;
  cmd->add_option("--cache-dir", s3->cache_dir,
                  "the node's block cache of S3 objects (default /var/cache/zenfs for root, else "
                  "$XDG_CACHE_HOME/zenfs or ~/.cache/zenfs)");
  cmd->add_option("--cache-size", *cache_size, "the cache's size limit (e.g. 20G; default 10G)");
  cmd->add_flag("--no-cache", s3->no_cache, "read S3 objects without the disk cache");
}

}  // namespace

int RunCli(int argc, char** argv) {
  CLI::App app{"zenfs: a read-only FUSE filesystem that shows ZenML pipelines, runs, steps and "
               "outputs as directories and files"};
  app.set_version_flag("--version", std::string("zenfs ") + ZENFS_VERSION);
  app.require_subcommand(1);
  app.footer("zenfs STORE MOUNTPOINT [-o OPTS] is zenfs mount STORE MOUNTPOINT [-o OPTS]: the form "
             "that `mount -t fuse.zenfs` and fstab lines run. See zenfs(1).");

  MountArgs m;
  std::vector<std::string> mount_pos;
  CLI::App* mount = app.add_subcommand("mount", "mount a ZenML store (STORE defaults to ~/.config/zenml)");
  mount->add_option("args", mount_pos, "[STORE] MOUNTPOINT")->required()->expected(1, 2);
  mount->add_flag("-f,--foreground", m.foreground, "stay in the foreground, log to stderr");
  mount->add_flag("-d,--debug", m.debug, "trace every FUSE request (implies -f)");
  mount->add_option("-o", m.options,
                    "mount options, comma-separated, repeatable: allow_other, allow_root, uid=N, "
                    "gid=N, file_mode=OCTAL, dir_mode=OCTAL, default_permissions, ro, ..., and "
                    "every long option below as name=value (artifact_root=OLD=NEW, refresh=5, "
                    "log_level=debug); nofail, _netdev, noauto, x-systemd.* are ignored");
  mount->add_option("--artifact-root", m.artifact_roots,
                    "OLD=NEW: read artifacts whose URI starts with OLD from NEW; or s3://BUCKET/PREFIX: "
                    "a trusted S3 root, read where the URI says (repeatable)");
  mount->add_option("--refresh", m.refresh_seconds, "seconds between checks for store changes")
      ->check(CLI::Range(0.0, 86400.0));
  mount->add_option("--threads", m.threads, "FUSE worker threads (default 8)")
      ->check(CLI::Range(1, 64));
  mount->add_option("--project", m.project,
                    "the project to show (ZenML 0.80 and later): a name or an id; default: "
                    "the config's active project, else `default`, else the only one");
  mount->add_option("--password-file", m.password_file,
                    "a MySQL store's password: the first line of this file (keeps it off the command "
                    "line and out of fstab)");
  mount->add_option("--api-key-file", m.api_key_file,
                    "a ZenML server's API key: the first line of this file (keeps it off the command line "
                    "and out of fstab)");
  AddRestTimeout(mount, &m.rest_timeout_seconds);
  mount->add_flag("--insecure", m.insecure, "do not verify a ZenML server's TLS certificate");
  mount->add_option("--ca-file", m.ca_file, "the CA bundle a ZenML server's certificate is checked against");
  mount->add_option("--log-level", m.log_level, "error, warning, info or debug")
      ->check(CLI::IsMember({"error", "warning", "info", "debug"}));
  std::string cache_size;
  AddS3Options(mount, &m.s3, &cache_size, true);

  std::string umount_point;
  CLI::App* umount = app.add_subcommand("umount", "unmount a zenfs mount");
  umount->add_option("MOUNTPOINT", umount_point)->required();

  DemoOptions demo;
  std::string demo_bytes = "64M";
  CLI::App* demo_cmd = app.add_subcommand("demo", "write a ZenML-format demo store to DIR");
  demo_cmd->add_option("DIR", demo.dir)->required();
  demo_cmd->add_option("--runs", demo.runs, "runs of example_pipeline")->check(CLI::Range(1, 100000000));
  demo_cmd->add_option("--steps", demo.steps, "steps per run")->check(CLI::Range(1, 1000));
  demo_cmd->add_option("--outputs", demo.outputs, "outputs per step")->check(CLI::Range(1, 1000));
  demo_cmd->add_option("--artifact-bytes", demo_bytes,
                       "size of the large artifact (e.g. 64M, 1G; 0 leaves it out)");
  std::string demo_schema(kDemoSchemaNames[static_cast<std::size_t>(demo.schema)]);
  demo_cmd
      ->add_option("--schema", demo_schema,
                   "ZenML schema to write: 0.74, 0.80 or latest (ZenML 0.97.0, the default)")
      ->check(CLI::IsMember(std::vector<std::string>(std::begin(kDemoSchemaNames),
                                                     std::end(kDemoSchemaNames))));
  demo_cmd->add_option("--artifact-store", demo.artifact_store,
                       "s3://BUCKET/PREFIX: the artifact store component is `s3` with this path, and "
                       "the artifacts are uploaded there (credentials as for mount)");
  S3Args demo_s3;
  demo_cmd->add_option("--s3-endpoint", demo_s3.endpoint,
                       "with --artifact-store: the S3 endpoint URL (e.g. http://127.0.0.1:9000), also "
                       "written as the component's client_kwargs.endpoint_url");
  std::string demo_mysql;
  demo_cmd->add_option("--mysql", demo_mysql,
                       "also copy the store's metadata into this empty MySQL/MariaDB database "
                       "(mysql://USER[:PASSWORD]@HOST[:PORT]/DATABASE); DIR keeps the SQLite twin");

  std::vector<std::string> ls_pos;
  CLI::App* ls = app.add_subcommand("ls", "print the tree below PATH without mounting");
  ls->add_option("args", ls_pos, "STORE [PATH]")->required()->expected(1, 2);
  StoreArgs ls_args;
  ls->add_option("--artifact-root", ls_args.artifact_roots, "OLD=NEW, as for mount");
  ls->add_option("--project", ls_args.project, "the project to show, as for mount");
  ls->add_option("--password-file", ls_args.password_file, "a MySQL store's password, as for mount");
  ls->add_option("--api-key-file", ls_args.api_key_file, "a ZenML server's API key, as for mount");
  AddRestTimeout(ls, &ls_args.rest_timeout_seconds);
  ls->add_flag("--insecure", ls_args.insecure, "do not verify a ZenML server's TLS certificate");
  ls->add_option("--ca-file", ls_args.ca_file, "a CA bundle for a ZenML server, as for mount");
  AddS3Options(ls, &ls_args.s3, nullptr, false);

  std::string cache_dir;
  CLI::App* cache = app.add_subcommand("cache", "show or empty the node-wide cache of object-store blocks");
  cache->require_subcommand(1);
  CLI::App* cache_stats = cache->add_subcommand("stats", "print the cache's blocks, bytes, size limit and folder");
  CLI::App* cache_clean = cache->add_subcommand("clean", "remove every cached block");
  for (CLI::App* sub : {cache_stats, cache_clean}) {
    sub->add_option("--cache-dir", cache_dir,
                    "the cache folder (default /var/cache/zenfs for root, else $XDG_CACHE_HOME/zenfs or "
                    "~/.cache/zenfs)");
  }

  // CLI11 takes an argument vector in reverse order.
  auto parse = [&app](std::vector<std::string> args) {
    std::reverse(args.begin(), args.end());
    app.parse(std::move(args));
  };
  const std::vector<std::string> args = Arguments(argc, argv);
  ScrubPasswords(argc, argv);
  try {
    parse(args);
    if (mount->parsed() && !m.options.empty()) {
      // zenfs's own options in -o lists become their long options, and the command line
      // is read again with them, so they are checked (and conflict) exactly like those.
      auto expanded = ExpandMountOptions(m.options, LongOptionsOf(*mount));
      if (!expanded.ok()) {
        std::cerr << "zenfs mount: " << expanded.status().message() << "\n";
        return kExitUsage;
      }
      if (!expanded->args.empty()) {
        std::vector<std::string> again = args;
        again.insert(again.end(), expanded->args.begin(), expanded->args.end());
        app.clear();
        parse(std::move(again));
      }
      m.options = std::move(expanded->fuse);
    }
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  if (mount->parsed()) {
    if (!cache_size.empty() && !ParseBytes(cache_size, &m.s3.cache_size)) {
      std::cerr << "zenfs mount: --cache-size: not a size: " << cache_size << "\n";
      return kExitUsage;
    }
    if (mount_pos.size() == 2) m.store = mount_pos[0];
    m.mountpoint = mount_pos.back();
    if (m.debug) m.foreground = true;
    return MountCommand(m);
  }
  if (umount->parsed()) return UmountCommand(umount_point);
  if (demo_cmd->parsed()) {
    if (!ParseBytes(demo_bytes, &demo.artifact_bytes)) {
      std::cerr << "zenfs demo: --artifact-bytes: not a size: " << demo_bytes << "\n";
      return kExitUsage;
    }
    demo.schema = ParseDemoSchema(demo_schema).value();  // IsMember checked the name
    // --mysql: the URL and the database are checked before DIR is written.
    std::optional<MysqlConfig> mysql;
    if (!demo_mysql.empty()) {
      auto parsed = ParseMysqlUrl(demo_mysql);
      if (!parsed.ok() || parsed->database.empty()) {
        std::cerr << "zenfs demo: --mysql: "
                  << (parsed.ok() ? "the URL names no database (mysql://USER@HOST:PORT/DATABASE)"
                                  : parsed.status().message())
                  << "\n";
        return kExitUsage;
      }
      if (Status ready = CheckMysqlTarget(*parsed); !ready.ok()) {
        std::cerr << "zenfs demo: --mysql: " << ready.message() << "\n";
        return kExitStore;
      }
      mysql = std::move(*parsed);
    }
    if (!demo_s3.endpoint.empty() && demo.artifact_store.empty()) {
      std::cerr << "zenfs demo: --s3-endpoint needs --artifact-store s3://BUCKET/PREFIX\n";
      return kExitUsage;
    }
    if (!demo.artifact_store.empty()) {
      auto client = MakeS3Client(demo_s3, demo_s3.endpoint);
      if (!client.ok()) {
        std::cerr << "zenfs demo: --artifact-store: " << client.status().message() << "\n";
        return kExitUsage;
      }
      demo.s3 = std::move(*client);
      demo.s3_endpoint = demo_s3.endpoint;
    }
    Status s = WriteDemoStore(demo);
    if (!s.ok()) {
      std::cerr << "zenfs demo: " << s.ToString() << "\n";
      return s.code() == Status::Code::kInvalidArgument ? kExitUsage : kExitStore;
    }
    std::cout << "wrote a ZenML store to " << demo.dir << "\n";
    if (mysql) {
      MysqlCopyStats stats;
      s = CopySqliteToMysql(demo.dir + "/local_stores/default_zen_store/zenml.db", *mysql, &stats);
      if (!s.ok()) {
        std::cerr << "zenfs demo: --mysql: " << s.message() << " (" << demo.dir << " keeps the SQLite store)\n";
        return kExitStore;
      }
      std::cout << "copied its metadata (" << stats.tables << " tables, " << stats.rows << " rows; " << stats.ddl
                << ") to " << mysql->Redacted() << "\n";
    }
    return kExitOk;
  }
  if (cache_stats->parsed()) return CacheStatsCommand(cache_dir);
  if (cache_clean->parsed()) return CacheCleanCommand(cache_dir);
  if (ls->parsed()) {
    return LsCommand(ls_pos[0], ls_pos.size() == 2 ? ls_pos[1] : std::string(), ls_args);
  }
  return kExitUsage;
}

}  // namespace zenfs
