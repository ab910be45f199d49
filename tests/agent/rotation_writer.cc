// A log-writing application for the rotation tests: appends numbered lines ("line <n> ...")
// to a file with O_APPEND at thousands of lines per second, in one of two styles:
//   signal: reopens its file when it gets SIGHUP (what logrotate's postrotate sends, the way
//           nginx and most daemons are rotated);
//   roll:   rotates itself every --roll-every lines like an application's rolling appender:
//           app.log.(k-1) → app.log.k … app.log → app.log.1 by renames (the oldest is
//           replaced), then creates app.log again — no signal, no external tool.
// Usage: rotation_writer MODE PATH LINES [ROLL_EVERY KEEP]. Prints "rotation_writer: ready"
// once SIGHUP is handled (before that a SIGHUP would kill it); exits 0 after the last line.
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

volatile sig_atomic_t g_reopen = 0;

void on_hup(int) { g_reopen = 1; }

int open_log(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::perror(("rotation_writer: open " + path).c_str());
    std::exit(2);
  }
  return fd;
}

void write_all(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n < 0) {
      std::perror("rotation_writer: write");
      std::exit(2);
    }
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: rotation_writer signal|roll PATH LINES [ROLL_EVERY KEEP]\n");
    return 2;
  }
  const std::string mode = argv[1];
  const std::string path = argv[2];
  const int lines = std::atoi(argv[3]);
  const int roll_every = argc > 4 ? std::atoi(argv[4]) : 0;
  const int keep = argc > 5 ? std::atoi(argv[5]) : 3;
  struct sigaction sa {};
  sa.sa_handler = on_hup;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGHUP, &sa, nullptr);
  std::printf("rotation_writer: ready\n");  // SIGHUP is handled from here on
  std::fflush(stdout);

  int fd = open_log(path);
  constexpr int kPerWrite = 10;
  const timespec pace{0, 1'000'000};  // the application's pace: ~10 lines per millisecond
  std::string chunk;
  for (int i = 0; i < lines;) {
    if (g_reopen) {
      g_reopen = 0;
      ::close(fd);
      fd = open_log(path);
    }
    chunk.clear();
    for (int k = 0; k < kPerWrite && i < lines; ++k, ++i) {
      chunk += "line " + std::to_string(i) + " ";
      chunk.append(60, static_cast<char>('a' + i % 26));
      chunk += '\n';
      if (mode == "roll" && roll_every > 0 && (i + 1) % roll_every == 0) {
        write_all(fd, chunk);
        chunk.clear();
        for (int k2 = keep - 1; k2 >= 1; --k2)
          ::rename((path + "." + std::to_string(k2)).c_str(),
                   (path + "." + std::to_string(k2 + 1)).c_str());
        ::rename(path.c_str(), (path + ".1").c_str());
        ::close(fd);
        fd = open_log(path);
      }
    }
    write_all(fd, chunk);
    ::nanosleep(&pace, nullptr);
  }
  ::close(fd);
  std::printf("rotation_writer: wrote %d lines\n", lines);
  return 0;
}
