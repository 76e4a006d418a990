// The REST catalog against the real ZenML 0.74 server (tests/zenml_server.h) over a demo
// store: the same rows and details as the SQL catalog reads from the very file the server
// serves; logins (API key, user, a token that lapsed, a revoked key); the change counter.
#include <sqlite3.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "store/rest_catalog.h"
#include "store/sql_catalog.h"
#include "tests/fault_proxy.h"
#include "tests/test_util.h"
#include "tests/zenml_server.h"

namespace zenfs::testing {
namespace {

using nlohmann::json;

std::string T(Text t) { return std::string(std::string_view(t)); }
std::string T(const std::optional<Micros>& t) { return t ? std::to_string(*t) : "-"; }

// A session with a fresh service account's API key (one per name), to `url` (default:
// the server's own).
std::unique_ptr<RestSession> KeySession(ZenmlServer& server, const std::string& name, std::string* key_out = nullptr,
                                        RestSession::Notify notify = nullptr, const std::string& stale_token = "",
                                        const std::string& url = "") {
  auto key = server.CreateApiKey(name);
  EXPECT_TRUE(key.ok()) << key.status().ToString();
  if (!key.ok()) return nullptr;
  if (key_out != nullptr) *key_out = *key;
  RestConfig c;
  c.url = url.empty() ? server.Url() : url;
  c.api_key = *key;
  c.api_token = stale_token;
  auto s = RestSession::Open(c, http::ClientOptions{}, std::move(notify));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? std::move(*s) : nullptr;
}

std::unique_ptr<RestCatalog> KeyCatalog(ZenmlServer& server, const std::string& name) {
  auto s = KeySession(server, name);
  if (s == nullptr) return nullptr;
  auto c = RestCatalog::Open(std::move(s));
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(*c) : nullptr;
}

// Rows as comparable text, in a canonical order (the two catalogs list in different orders).
template <typename Row, typename F>
std::multiset<std::string> Canon(const std::vector<Row>& rows, F&& fields) {
  std::multiset<std::string> out;
  for (const Row& r : rows) out.insert(fields(r));
  return out;
}

json MetaMap(const std::vector<MetadataRow>& rows) {
  json j = json::object();
  for (const MetadataRow& r : rows) j[r.key] = json::parse(r.value, nullptr, false);
  return j;
}

class RestCatalogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = SharedZenmlServer();
    ASSERT_NE(server_, nullptr);
    auto sql = OpenSqliteCatalog(server_->db_path());
    ASSERT_TRUE(sql.ok()) << sql.status().ToString();
    sql_ = std::move(*sql);
  }
  ZenmlServer* server_ = nullptr;
  std::unique_ptr<SqlCatalog> sql_;
};

// Every row the REST catalog reads equals the SQL catalog's of the same file.
void ExpectRowsOfTheSqlCatalog(SqlCatalog& sql, RestCatalog& rest) {
  auto a = sql.LoadRows(RowScope::kAll);
  auto b = rest.LoadRows(RowScope::kAll);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_FALSE(a->runs.empty());
  EXPECT_EQ(b->schema_version, a->schema_version);
  auto pipe = [](const PipelineRow& r) { return T(r.id) + "|" + T(r.name) + "|" + T(r.created) + "|" + T(r.updated); };
  EXPECT_EQ(Canon(b->pipelines, pipe), Canon(a->pipelines, pipe));
  auto run = [](const RunRow& r) {
    return T(r.id) + "|" + T(r.name) + "|" + T(r.pipeline_id) + "|" + T(r.status) + "|" + T(r.start_time) + "|" +
           T(r.end_time) + "|" + T(r.created) + "|" + T(r.updated) + "|" + T(r.parent_run_id);
  };
  EXPECT_EQ(Canon(b->runs, run), Canon(a->runs, run));
  auto step = [](const StepRow& r) {
    return T(r.id) + "|" + T(r.run_id) + "|" + T(r.name) + "|" + T(r.status) + "|" + T(r.original_step_run_id) + "|" +
           T(r.start_time) + "|" + T(r.end_time) + "|" + T(r.created) + "|" + T(r.updated);
  };
  EXPECT_EQ(Canon(b->steps, step), Canon(a->steps, step));
  auto link = [](const ArtifactLinkRow& r) {
    return T(r.step_id) + "|" + T(r.name) + "|" + T(r.artifact_version_id) + "|" + std::to_string(r.index);
  };
  EXPECT_EQ(Canon(b->outputs, link), Canon(a->outputs, link));
  EXPECT_EQ(Canon(b->inputs, link), Canon(a->inputs, link));
  auto av = [](const ArtifactVersionRow& r) {
    return T(r.id) + "|" + T(r.uri) + "|" + T(r.artifact_store_id) + "|" + T(r.created) + "|" + T(r.updated) + "|" +
           T(r.artifact_name) + "|" + T(r.version);
  };
  EXPECT_EQ(Canon(b->artifact_versions, av), Canon(a->artifact_versions, av));
  // Every version knows its artifact's name and its version (%artifacts/<name>/<version>).
  for (const ArtifactVersionRow& r : b->artifact_versions) {
    EXPECT_FALSE(r.artifact_name.empty()) << T(r.id);
    EXPECT_FALSE(r.version.empty()) << T(r.id);
  }
  // A log's artifact store is the store's only one (rest_catalog.cc says why).
  auto log = [](const LogRow& r) {
    return T(r.id) + "|" + T(r.uri) + "|" + T(r.step_run_id) + "|" + T(r.created) + "|" + T(r.updated) + "|" +
           std::to_string(r.has_uri);
  };
  EXPECT_EQ(Canon(b->logs, log), Canon(a->logs, log));
  auto store = [](const ArtifactStoreRow& r) { return r.id + "|" + r.configured_root; };
  EXPECT_EQ(Canon(b->artifact_stores, store), Canon(a->artifact_stores, store));
  EXPECT_TRUE(b->projects.empty());
}

TEST_F(RestCatalogTest, RowsEqualTheSqlCatalogsOfTheSameFile) {
  auto rest = KeyCatalog(*server_, "rows-equal");
  ASSERT_NE(rest, nullptr);
  ExpectRowsOfTheSqlCatalog(*sql_, *rest);
}

// Large lists are read in pages fetched several at once: pages of 2 items, 3 at a time,
// give the same rows as one page, each once, in more requests.
TEST_F(RestCatalogTest, ListsReadInParallelPagesGiveTheSameRows) {
  auto one = KeyCatalog(*server_, "one-page");
  auto paged = KeyCatalog(*server_, "parallel-pages");
  ASSERT_NE(one, nullptr);
  ASSERT_NE(paged, nullptr);
  paged->SetPaging({0, 2, 3});
  const std::uint64_t before_one = one->session().stats().requests;
  const std::uint64_t before_paged = paged->session().stats().requests;
  ASSERT_TRUE(one->LoadRows(RowScope::kAll).ok());
  ExpectRowsOfTheSqlCatalog(*sql_, *paged);
  EXPECT_GT(paged->session().stats().requests - before_paged, 2 * (one->session().stats().requests - before_one))
      << "the paged catalog read in small pages";
}

TEST_F(RestCatalogTest, PipelineScopeNamesTheSameFirstRunsAndKeepsTheRuns) {
  auto rest = KeyCatalog(*server_, "first-runs");
  ASSERT_NE(rest, nullptr);
  auto a = sql_->LoadRows(RowScope::kPipelines);
  auto b = rest->LoadRows(RowScope::kPipelines);
  ASSERT_TRUE(a.ok() && b.ok());
  auto first = [](const FirstRunRow& r) {
    return r.pipeline_id + "|" + r.run_id + "|" + T(r.start_time) + "|" + T(r.created);
  };
  EXPECT_EQ(Canon(b->first_runs, first), Canon(a->first_runs, first));
  // The hydrated runs it read for them are kept: the pipeline scope answers the runs' too.
  auto runs = sql_->LoadRows(RowScope::kRuns);
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(b->scope, RowScope::kRuns);
  EXPECT_EQ(b->runs.size(), runs->runs.size());
  EXPECT_TRUE(b->steps.empty());
}

TEST_F(RestCatalogTest, DetailsEqualTheSqlCatalogs) {
  auto rest = KeyCatalog(*server_, "details-equal");
  ASSERT_NE(rest, nullptr);
  auto rows = sql_->LoadRows(RowScope::kAll);
  ASSERT_TRUE(rows.ok());
  for (const RunRow& r : rows->runs) {
    RunDetail a, b;
    ASSERT_TRUE(sql_->GetRunDetail(T(r.id), &a).ok());
    const Status s = rest->GetRunDetail(T(r.id), &b);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(b.run_name_template, a.run_name_template) << T(r.name);
    EXPECT_EQ(b.schedule_id, a.schedule_id) << T(r.name);
    EXPECT_EQ(b.code_path, a.code_path) << T(r.name);
    EXPECT_EQ(b.pipeline_source, a.pipeline_source) << T(r.name);
    EXPECT_EQ(b.git_sha, a.git_sha) << T(r.name);
    EXPECT_EQ(b.orchestrator_run_id, a.orchestrator_run_id) << T(r.name);
    ASSERT_EQ(a.pipeline_configuration.has_value(), b.pipeline_configuration.has_value()) << T(r.name);
    if (a.pipeline_configuration) {
      EXPECT_EQ(json::parse(*b.pipeline_configuration), json::parse(*a.pipeline_configuration)) << T(r.name);
    }
    EXPECT_EQ(MetaMap(b.metadata), MetaMap(a.metadata)) << T(r.name);
  }
  for (const StepRow& st : rows->steps) {
    StepDetail a, b;
    ASSERT_TRUE(sql_->GetStepDetail(T(st.id), T(st.name), &a).ok());
    const Status s = rest->GetStepDetail(T(st.id), T(st.name), &b);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(b.docstring, a.docstring) << T(st.name);
    EXPECT_EQ(b.source_code, a.source_code) << T(st.name);
    EXPECT_EQ(b.cache_key, a.cache_key) << T(st.name);
    ASSERT_EQ(a.step_config.has_value(), b.step_config.has_value()) << T(st.name);
    if (a.step_config) {
      // What meta.json shows of it: the step's parameters.
      const json ja = json::parse(*a.step_config), jb = json::parse(*b.step_config);
      EXPECT_EQ(jb.value("/config/parameters"_json_pointer, json()), ja.value("/config/parameters"_json_pointer, json()))
          << T(st.name);
    }
    EXPECT_EQ(MetaMap(b.metadata), MetaMap(a.metadata)) << T(st.name);
    std::vector<MetadataRow> ma, mb;
    ASSERT_TRUE(sql_->GetMetadata("step_run", T(st.id), &ma).ok());
    ASSERT_TRUE(rest->GetMetadata("step_run", T(st.id), &mb).ok());
    EXPECT_EQ(MetaMap(mb), MetaMap(ma));
  }
  int visualized = 0;
  for (const ArtifactVersionRow& v : rows->artifact_versions) {
    ArtifactDetail a, b;
    ASSERT_TRUE(sql_->GetArtifactDetail(T(v.id), &a).ok());
    const Status s = rest->GetArtifactDetail(T(v.id), &b);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(b.artifact_name, a.artifact_name);
    EXPECT_EQ(b.version, a.version);
    EXPECT_EQ(b.type, a.type);
    EXPECT_EQ(json::parse(b.materializer, nullptr, false), json::parse(a.materializer, nullptr, false));
    EXPECT_EQ(json::parse(b.data_type, nullptr, false), json::parse(a.data_type, nullptr, false));
    EXPECT_EQ(MetaMap(b.metadata), MetaMap(a.metadata));
    EXPECT_EQ(b.visualizations, a.visualizations) << "the same visualizations in the same order";
    visualized += a.visualizations.empty() ? 0 : 1;
  }
  EXPECT_GT(visualized, 0) << "the demo store has visualizations";
  ArtifactDetail gone;
  EXPECT_EQ(rest->GetArtifactDetail("00000000000000000000000000000000", &gone).code(), Status::Code::kNotFound);
}

TEST_F(RestCatalogTest, ChangeCounterHoldsStillAndMovesWithTheStore) {
  auto rest = KeyCatalog(*server_, "counter");
  ASSERT_NE(rest, nullptr);
  auto c1 = rest->ChangeCounter();
  ASSERT_TRUE(c1.ok()) << c1.status().ToString();
  const http::ClientStats before = rest->session().stats();
  auto c2 = rest->ChangeCounter();
  ASSERT_TRUE(c2.ok());
  EXPECT_EQ(*c2, *c1) << "nothing changed";
  // A poll is a handful of small requests, never a listing.
  EXPECT_LE(rest->session().stats().requests - before.requests, 4u);
  // A run's status changes behind the server: the counter moves.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(server_->db_path().c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 10000);
  char* err = nullptr;
  const int rc = sqlite3_exec(db,
                              "UPDATE pipeline_run SET updated = strftime('%Y-%m-%d %H:%M:%f', 'now') "
                              "WHERE id = (SELECT id FROM pipeline_run ORDER BY created LIMIT 1)",
                              nullptr, nullptr, &err);
  EXPECT_EQ(rc, SQLITE_OK) << (err != nullptr ? err : "");
  sqlite3_free(err);
  sqlite3_close(db);
  auto c3 = rest->ChangeCounter();
  ASSERT_TRUE(c3.ok());
  EXPECT_NE(*c3, *c2);
}

TEST_F(RestCatalogTest, AUserLogsInWithNameAndPassword) {
  RestConfig c;
  c.url = server_->Url();
  c.username = "default";
  c.has_password = true;
  auto s = RestSession::Open(c);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)->version().rfind("0.74", 0), 0u) << (*s)->version();
  auto runs = (*s)->Get("/runs?size=1");
  EXPECT_TRUE(runs.ok()) << runs.status().ToString();
}

TEST_F(RestCatalogTest, ATokenTheServerRefusesMeansOneNewLoginAndTheRequestSucceeds) {
  // A token the server does not take (as after its expiry): the first request gets a 401,
  // the session logs in with its key once and sends that request again.
  auto s = KeySession(*server_, "relogin", nullptr, nullptr, "not-a-token");
  ASSERT_NE(s, nullptr);
  const std::uint64_t logins = s->logins();
  auto runs = s->Get("/runs?size=1");
  EXPECT_TRUE(runs.ok()) << runs.status().ToString();
  // Open read /info (no login needed there, or one): later requests add at most one.
  EXPECT_LE(s->logins(), logins + 1);
  EXPECT_GE(s->logins(), 1u);
  auto again = s->Get("/steps?size=1");
  EXPECT_TRUE(again.ok());
  EXPECT_LE(s->logins(), logins + 1) << "a good token is kept";
}

TEST_F(RestCatalogTest, ARevokedKeyIsAClearErrorToldOnce) {
  std::atomic<int> told{0};
  std::string key;
  auto s = KeySession(*server_, "revoked", &key, [&](const std::string& m) {
    ++told;
    EXPECT_EQ(m.find("ZENKEY"), std::string::npos);
  });
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->Get("/runs?size=1").ok());
  const Status revoked = server_->RevokeApiKey("revoked");
  ASSERT_TRUE(revoked.ok()) << revoked.ToString();
  // A new login with the key is refused, clearly and without the key in the message.
  RestConfig c;
  c.url = server_->Url();
  c.api_key = key;
  auto refused = RestSession::Open(c);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), Status::Code::kPermissionDenied) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("refused the login"), std::string::npos) << refused.status().message();
  EXPECT_EQ(refused.status().message().find(key), std::string::npos);
  // The session that had logged in: the server refuses its token now, its new login
  // fails, and that is told once however many requests fail.
  for (int i = 0; i < 3; ++i) {
    auto r = s->Get("/runs?size=1");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), Status::Code::kPermissionDenied) << r.status().ToString();
    EXPECT_EQ(r.status().message().find(key), std::string::npos);
  }
  EXPECT_EQ(told.load(), 1);
}

TEST_F(RestCatalogTest, BusyAnswersAreRetriedTwiceThenTheErrorNamesThe503) {
  std::string error;
  auto proxy = FaultProxy::Start("127.0.0.1", server_->port(), &error);
  ASSERT_NE(proxy, nullptr) << error;
  auto s = KeySession(*server_, "busy", nullptr, nullptr, "", proxy->Url());
  ASSERT_NE(s, nullptr);
  proxy->SetMode(FaultProxy::Mode::k503);
  const std::uint64_t before = proxy->faults();
  auto r = s->Get("/runs?size=1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kIOError) << r.status().ToString();
  EXPECT_NE(r.status().message().find("HTTP 503"), std::string::npos) << r.status().message();
  EXPECT_EQ(proxy->faults() - before, 3u) << "one try and the client's two retries";
  proxy->SetMode(FaultProxy::Mode::kPass);
  EXPECT_TRUE(s->Get("/runs?size=1").ok()) << "the session works again once the server does";
}

// A server whose tokens expire after a minute (ZenML's ZENML_SERVER_JWT_TOKEN_EXPIRE_MINUTES,
// no leeway): a session renews its token before it lapses (the login said `expires_in`),
// and a token the server has let expire means one new login, the request succeeding.
TEST(RestTokenExpiryTest, AnExpiredTokenMeansOneNewLoginAndTheRequestSucceeds) {
  ZenmlServer* shared = SharedZenmlServer();
  ASSERT_NE(shared, nullptr);
  TempDir dir(std::filesystem::path(shared->base_dir()).parent_path().string());
  std::string error;
  auto server = ZenmlServer::Create(ZenmlEnvironment::DemoDir() + "/local_stores/default_zen_store/zenml.db",
                                    dir.path() + "/server", &error, ZenmlServer::kDefaultWorkdir,
                                    {"ZENML_SERVER_JWT_TOKEN_EXPIRE_MINUTES=1", "ZENML_SERVER_JWT_TOKEN_LEEWAY_SECONDS=0"});
  ASSERT_NE(server, nullptr) << error;
  auto key = server->CreateApiKey("expiry");
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  auto login = server->ApiKeyLogin(*key);
  ASSERT_TRUE(login.ok()) << login.status().ToString();
  const json answer = json::parse(login->body, nullptr, false);
  ASSERT_TRUE(answer.is_object() && answer.contains("access_token")) << login->body;
  EXPECT_EQ(answer.value("expires_in", 0), 60) << login->body;
  const std::string token = answer["access_token"].get<std::string>();
  RestConfig c;
  c.url = server->Url();
  c.api_key = *key;
  auto renewing = RestSession::Open(c);
  ASSERT_TRUE(renewing.ok()) << renewing.status().ToString();
  c.api_token = token;  // as a token left in credentials.yaml: its lifetime is not known
  auto stale = RestSession::Open(c);
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  EXPECT_EQ((*stale)->logins(), 0u);
  // The server refuses the token once it has expired (polled: never a timing assertion).
  auto status_with = [&](const std::string& t) {
    auto r = server->Call("GET", "/api/v1/runs?size=1", t);
    return r.ok() ? r->status : 0L;
  };
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(240);
  while (status_with(token) == 200 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  ASSERT_EQ(status_with(token), 401) << "the server never let the token expire";
  auto r = (*stale)->Get("/runs?size=1");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*stale)->logins(), 1u) << "one new login after the 401";
  auto renewed = (*renewing)->Get("/runs?size=1");
  EXPECT_TRUE(renewed.ok()) << renewed.status().ToString();
  EXPECT_EQ((*renewing)->logins(), 2u) << "the lapsing token was renewed once";
}

TEST_F(RestCatalogTest, NoCredentialsIsAClearError) {
  RestConfig c;
  c.url = server_->Url();
  auto s = RestSession::Open(c);
  if (!s.ok()) {
    EXPECT_EQ(s.status().code(), Status::Code::kPermissionDenied) << s.status().ToString();
    return;
  }
  auto runs = (*s)->Get("/runs?size=1");
  ASSERT_FALSE(runs.ok());
  EXPECT_EQ(runs.status().code(), Status::Code::kPermissionDenied);
  EXPECT_NE(runs.status().message().find("needs credentials"), std::string::npos) << runs.status().message();
}

}  // namespace
}  // namespace zenfs::testing
