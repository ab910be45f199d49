// Secrets and private keys on disk (issue 12 item 3): read only from files that no other user
// can read, with an error a person can act on ("… run: chmod 600 PATH"). Every secret the
// agent, collector and CLI read (fleet and enrollment secrets, API tokens, TLS and instance
// keys) goes through here; none is ever taken from a command-line flag or written to a log.
#pragma once

#include <string>

#include "schemas/result.h"

namespace blackbox {

// kOk when `path` is a regular file (symlinks followed) that neither group nor others may
// read or write (mode & 077 == 0). Otherwise an error with `why` set to one line naming the
// file, what is wrong and the command that fixes it: kInvalidArgument when the mode is too
// open or it is not a regular file, kNotFound when missing, kIo when it cannot be examined.
[[nodiscard]] Result<void> check_private_file(const std::string& path, std::string& why);

// check_private_file(), then the whole file (at most 1 MiB, else kInvalidArgument), with trailing "\n" /
// "\r\n" cut. kInvalidArgument (with `why`) when what is left is empty.
[[nodiscard]] Result<std::string> read_secret_file(const std::string& path, std::string& why);

// Writes `bytes` to `path` atomically (a temporary file in the same directory, mode 0600,
// fsynced, renamed over `path`, directory fsynced). For keys the agent generates itself.
[[nodiscard]] Result<void> write_private_file(const std::string& path, const std::string& bytes,
                                              std::string& why);

}  // namespace blackbox
