// smtpipe/pipeline/state_id.hpp - IDs of the built-in states, fixed in their default order.
// SPDX-License-Identifier: BSL-1.0
#ifndef SMTPIPE_PIPELINE_STATE_ID_HPP
#define SMTPIPE_PIPELINE_STATE_ID_HPP

#include "smtpipe/config.hpp"

#include <array>
#include <string_view>

namespace smtpipe {

namespace states {
struct banner;
struct ehlo;
struct helo;
struct starttls;
struct auth;
struct mail;
struct rcpt;
struct data;
struct rset;
struct quit;
}  // namespace states

/// State IDs. Built-in states have these IDs in this default order; custom states get
/// `first_custom`, `first_custom + 1`, ... in the order they are registered.
namespace state_id {
inline constexpr int head = -1;  ///< `insert_after` value that puts a state before `banner`.
inline constexpr int banner = 0;
inline constexpr int ehlo = 1;
inline constexpr int helo = 2;
inline constexpr int starttls = 3;
inline constexpr int auth = 4;
inline constexpr int mail = 5;
inline constexpr int rcpt = 6;
inline constexpr int data = 7;
inline constexpr int rset = 8;
inline constexpr int quit = 9;
inline constexpr int builtin_count = 10;
inline constexpr int first_custom = builtin_count;
}  // namespace state_id

/// Names of the built-in states, indexed by ID.
inline constexpr std::array<std::string_view, state_id::builtin_count> builtin_state_names{
    "banner", "ehlo", "helo", "starttls", "auth", "mail", "rcpt", "data", "rset", "quit"};

/// The fixed ID of a built-in state type, or -1 for any other type.
template <class State>
inline constexpr int builtin_state_id = -1;
template <>
inline constexpr int builtin_state_id<states::banner> = state_id::banner;
template <>
inline constexpr int builtin_state_id<states::ehlo> = state_id::ehlo;
template <>
inline constexpr int builtin_state_id<states::helo> = state_id::helo;
template <>
inline constexpr int builtin_state_id<states::starttls> = state_id::starttls;
template <>
inline constexpr int builtin_state_id<states::auth> = state_id::auth;
template <>
inline constexpr int builtin_state_id<states::mail> = state_id::mail;
template <>
inline constexpr int builtin_state_id<states::rcpt> = state_id::rcpt;
template <>
inline constexpr int builtin_state_id<states::data> = state_id::data;
template <>
inline constexpr int builtin_state_id<states::rset> = state_id::rset;
template <>
inline constexpr int builtin_state_id<states::quit> = state_id::quit;

}  // namespace smtpipe

#endif  // !SMTPIPE_PIPELINE_STATE_ID_HPP
