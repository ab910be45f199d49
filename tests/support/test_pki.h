// Test certificates made at run time with the `openssl` command (never committed): a CA, and
// leaf certificates it signs — a server certificate for 127.0.0.1/localhost, client
// certificates naming an instance by URI SAN, DNS SAN or CN, an expired one. Keys are written
// mode 600 (the collector and agent refuse keys others can read). For TLS tests only.
#pragma once

#include <string>

namespace blackbox::testing {

struct TestCert {
  std::string cert;  // PEM certificate path
  std::string key;   // PEM private key path (mode 600)
};

class TestPki {
 public:
  // Makes a CA named `name` in `dir` (which must exist). Throws std::runtime_error when
  // `openssl` fails (a broken test setup).
  TestPki(std::string dir, std::string name = "ca");

  const std::string& ca_file() const { return ca_.cert; }

  // A certificate signed by this CA: subject CN `cn`, `san` as openssl writes it
  // ("IP:127.0.0.1,DNS:localhost", "URI:blackbox://instance/i-a"; "" for none), valid for
  // `days` from now (negative: expired that many days ago). Files are <dir>/<file>.pem/.key.
  TestCert issue(const std::string& file, const std::string& cn, const std::string& san,
                 int days = 2) const;
  // The usual server certificate: CN `cn`, SANs IP:127.0.0.1 and DNS:localhost.
  TestCert server(const std::string& file, const std::string& cn = "localhost") const;

 private:
  std::string dir_;
  std::string name_;
  TestCert ca_;
};

// The certificate's serial number as `openssl x509 -serial` prints it ("serial=1A2B…").
std::string cert_serial(const std::string& pem_path);

}  // namespace blackbox::testing
