#include "tests/support/test_pki.h"

#include <sys/stat.h>

#include <fstream>
#include <stdexcept>

#include "tests/support/child_process.h"

namespace blackbox::testing {
namespace {

RunResult openssl(const std::string& dir, std::vector<std::string> args) {
  args.insert(args.begin(), "/usr/bin/openssl");
  RunResult r = run(args, dir);
  if (r.exit_code != 0)
    throw std::runtime_error("openssl " + args[1] + " failed: " + r.err + r.out);
  return r;
}

void new_key(const std::string& dir, const std::string& path) {
  openssl(dir,
          {"genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", path});
  ::chmod(path.c_str(), 0600);
}

}  // namespace

TestPki::TestPki(std::string dir, std::string name) : dir_(std::move(dir)), name_(std::move(name)) {
  ca_ = {dir_ + "/" + name_ + ".pem", dir_ + "/" + name_ + ".key"};
  new_key(dir_, ca_.key);
  openssl(dir_, {"req", "-x509", "-new", "-key", ca_.key, "-out", ca_.cert, "-days", "2", "-subj",
                 "/CN=" + name_, "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
                 "keyUsage=critical,keyCertSign,cRLSign"});
}

TestCert TestPki::issue(const std::string& file, const std::string& cn, const std::string& san,
                        int days) const {
  TestCert c{dir_ + "/" + file + ".pem", dir_ + "/" + file + ".key"};
  const std::string csr = dir_ + "/" + file + ".csr", ext = dir_ + "/" + file + ".ext";
  new_key(dir_, c.key);
  openssl(dir_, {"req", "-new", "-key", c.key, "-out", csr, "-subj", "/CN=" + cn});
  std::ofstream(ext) << "basicConstraints=CA:FALSE\n"
                     << (san.empty() ? "" : "subjectAltName=" + san + "\n");
  openssl(dir_, {"x509", "-req", "-in", csr, "-CA", ca_.cert, "-CAkey", ca_.key, "-CAcreateserial",
                 "-out", c.cert, "-days", std::to_string(days), "-extfile", ext});
  return c;
}

TestCert TestPki::server(const std::string& file, const std::string& cn) const {
  return issue(file, cn, "IP:127.0.0.1,DNS:localhost");
}

std::string cert_serial(const std::string& pem_path) {
  const std::string dir = pem_path.substr(0, pem_path.rfind('/'));
  RunResult r = run({"/usr/bin/openssl", "x509", "-in", pem_path, "-noout", "-serial"}, dir);
  while (!r.out.empty() && r.out.back() == '\n') r.out.pop_back();
  return r.out;
}

}  // namespace blackbox::testing
