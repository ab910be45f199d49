// Enrolled instance keys (issue 12 item 2), kept in the meta column family under
// "enroll/<instance>" as a small JSON object.
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "collector/store/keys.h"
#include "collector/store/store.h"
#include "collector/store/store_internals.h"
#include "schemas/hex.h"

namespace blackbox::collector {
namespace {

using nlohmann::json;

std::string encode(const Enrollment& e) {
  return json{{"public_key", hex_lower({reinterpret_cast<const char*>(e.public_key.data()),
                                        e.public_key.size()})},
              {"enrolled_ns", e.enrolled_ns},
              {"secret_name", e.secret_name},
              {"peer", e.peer}}
      .dump();
}

Result<Enrollment> decode(std::string_view instance, std::string_view v) {
  const json j = json::parse(v, nullptr, false);
  if (!j.is_object()) return Err(Errc::kCorrupt);
  try {
    Enrollment e;
    e.instance = std::string(instance);
    auto raw = unhex(j.at("public_key").get<std::string>());
    if (!raw || raw->size() != e.public_key.size()) return Err(Errc::kCorrupt);
    std::copy(raw->begin(), raw->end(), e.public_key.begin());
    e.enrolled_ns = j.at("enrolled_ns").get<std::int64_t>();
    e.secret_name = j.value("secret_name", "");
    e.peer = j.value("peer", "");
    return e;
  } catch (const json::exception&) {
    return Err(Errc::kCorrupt);
  }
}

rocksdb::WriteOptions synced() {
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return wo;
}

}  // namespace

Result<std::optional<Enrollment>> Store::enrollment(std::string_view instance) const {
  std::string v;
  auto st = internals_->db()->Get(rocksdb::ReadOptions(), internals_->cf(keys::Cf::kMeta),
                                  keys::enroll_key(instance), &v);
  if (st.IsNotFound()) return std::optional<Enrollment>();
  if (auto e = status_errc(st, "read enrollment"); e != Errc::kOk) return Err(e);
  auto e = decode(instance, v);
  if (!e) return e.error();
  return std::optional<Enrollment>(std::move(*e));
}

Result<std::vector<Enrollment>> Store::enrollments() const {
  std::vector<Enrollment> out;
  RangeIter it(*internals_, keys::Cf::kMeta, std::string(keys::kEnrollPrefix),
               keys::prefix_successor(keys::kEnrollPrefix));
  for (; it->Valid(); it->Next()) {
    const auto key = it->key().ToStringView();
    auto e = decode(key.substr(keys::kEnrollPrefix.size()), it->value().ToStringView());
    if (!e) return e.error();
    out.push_back(std::move(*e));
  }
  if (auto e = it.status("list enrollments"); e != Errc::kOk) return Err(e);
  return out;
}

Result<void> Store::put_enrollment(const Enrollment& e) {
  if (e.instance.empty()) return Err(Errc::kInvalidArgument);
  if (internals_->read_only) return Err(Errc::kDiskFull);
  auto st = internals_->db()->Put(synced(), internals_->cf(keys::Cf::kMeta),
                                  keys::enroll_key(e.instance), encode(e));
  if (auto c = status_errc(st, "write enrollment"); c != Errc::kOk) return Err(c);
  return {};
}

Result<void> Store::delete_enrollment(std::string_view instance) {
  if (internals_->read_only) return Err(Errc::kDiskFull);
  auto had = enrollment(instance);
  if (!had) return had.error();
  if (!*had) return Err(Errc::kNotFound);
  auto st = internals_->db()->Delete(synced(), internals_->cf(keys::Cf::kMeta),
                                     keys::enroll_key(instance));
  if (auto c = status_errc(st, "delete enrollment"); c != Errc::kOk) return Err(c);
  spdlog::info("store: enrollment of instance {} deleted: its next HELLO enrolls again",
               instance);
  return {};
}

}  // namespace blackbox::collector
