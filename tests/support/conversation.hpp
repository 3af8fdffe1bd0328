// tests/support/conversation.hpp - The server lines most session tests script, and the client
// lines they expect in return.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_TESTS_SUPPORT_CONVERSATION_HPP
#define SMTPIPE_TESTS_SUPPORT_CONVERSATION_HPP

#include <string>

namespace smtpipe::test {

inline const std::string greeting = "220 mx.example.org ESMTP\r\n";

// EHLO replies: with PIPELINING, with PIPELINING and ENHANCEDSTATUSCODES, and without either.
inline const std::string ehlo_pipelining =
    "250-mx.example.org\r\n250-PIPELINING\r\n250 8BITMIME\r\n";
inline const std::string ehlo_enhanced =
    "250-mx.example.org\r\n250-PIPELINING\r\n250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n";
inline const std::string ehlo_lockstep = "250-mx.example.org\r\n250 8BITMIME\r\n";

// The client's EHLO, and its pipelined group for one message from a@ to b@example.org.
inline const std::string ehlo_line = "EHLO localhost\r\n";
inline const std::string group_one =
    "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n";

}  // namespace smtpipe::test

#endif  // !SMTPIPE_TESTS_SUPPORT_CONVERSATION_HPP
