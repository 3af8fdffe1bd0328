// cli/exit_codes.hpp - The sysexits(3) values smtpipe-send and smtpipe-sendmail exit with.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_CLI_EXIT_CODES_HPP
#define SMTPIPE_CLI_EXIT_CODES_HPP

// Named here so the programs do not depend on <sysexits.h>.
namespace smtpipe_cli::exit_code {
constexpr int ok = 0;
constexpr int usage = 64;        // EX_USAGE: bad command line
constexpr int data_error = 65;   // EX_DATAERR: the message or an address was refused
constexpr int unavailable = 69;  // EX_UNAVAILABLE: some recipient failed permanently
constexpr int software = 70;     // EX_SOFTWARE: an internal error
constexpr int io_error = 74;     // EX_IOERR: standard input or the spool file failed
constexpr int temp_fail = 75;    // EX_TEMPFAIL: not delivered, try again later
constexpr int config = 78;       // EX_CONFIG: a configuration file is wrong
}  // namespace smtpipe_cli::exit_code

#endif  // !SMTPIPE_CLI_EXIT_CODES_HPP
