#include "collector/enrollments_command.h"

#include <unistd.h>

#include <nlohmann/json.hpp>
#include <ostream>

#include "schemas/clock.h"
#include "schemas/ed25519.h"
#include "schemas/time_text.h"

namespace blackbox::collector {

namespace {

std::unique_ptr<Store> open_store(const Config& config, std::ostream& err) {
  auto store = Store::open(store_options(config));
  if (store) return std::move(*store);
  err << "blackbox-collector: cannot open " << config.collector.data_dir
      << " (is the collector running? this command needs it stopped; use the query API's "
         "enrollment endpoint while it runs)\n";
  return nullptr;
}

}  // namespace

int enrollments_list_command(const Config& config, std::ostream& out, std::ostream& err) {
  auto store = open_store(config, err);
  if (!store) return 1;
  auto all = store->enrollments();
  if (!all) {
    err << "blackbox-collector: cannot read enrollments: " << all.error().message() << "\n";
    return 1;
  }
  for (const auto& e : *all)
    out << e.instance << "  " << ed25519_fingerprint(e.public_key) << "  "
        << format_rfc3339_ns(e.enrolled_ns) << "  secret=" << e.secret_name << "  peer=" << e.peer
        << "\n";
  return 0;
}

int enrollments_reset_command(const Config& config, const std::string& instance, std::ostream& out,
                              std::ostream& err) {
  auto store = open_store(config, err);
  if (!store) return 1;
  auto had = store->enrollment(instance);
  if (had && !*had) {
    err << "blackbox-collector: instance " << instance << " has no enrolled key\n";
    return 1;
  }
  if (!had) {
    err << "blackbox-collector: " << instance << ": " << had.error().message() << "\n";
    return 1;
  }
  if (auto ok = store->delete_enrollment(instance); !ok) {
    err << "blackbox-collector: " << instance << ": " << ok.error().message() << "\n";
    return 1;
  }
  // The audit record of the admin action (LifecycleKind::kAdmin).
  SystemClock clock;
  nlohmann::json detail = {{"action", "enrollment_reset"},
                           {"fingerprint", ed25519_fingerprint((*had)->public_key)},
                           {"by", "blackbox-collector enrollments reset (offline)"},
                           {"uid", static_cast<long>(::getuid())}};
  StoreWriteBatch wb = store->write_batch();
  wb.put_lifecycle(instance, LifecycleEvent{clock.wall_ns(), LifecycleKind::kAdmin, "", "",
                                            "enrollment reset", detail.dump()});
  if (auto ok = store->commit(std::move(wb), CommitSync::kSync); !ok) {
    err << "blackbox-collector: " << instance << ": enrollment deleted, audit record not "
        << "written: " << ok.error().message() << "\n";
    return 1;
  }
  out << "reset the enrollment of " << instance << " (key "
      << ed25519_fingerprint((*had)->public_key) << "): its next HELLO enrolls again\n";
  return 0;
}

}  // namespace blackbox::collector
