// The static pipeline: IDs, order, groups and names, checked at compile time where possible.
#include "smtpipe/pipeline/pipeline.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>

using namespace smtpipe;

namespace {
struct proxy {
  static constexpr std::string_view name = "proxy";
};
struct xclient {
  static constexpr std::string_view name = "xclient";
};
struct audit {
  static constexpr std::string_view name = "audit";
};
struct a {
  static constexpr std::string_view name = "a";
};
struct b {
  static constexpr std::string_view name = "b";
};
struct c {
  static constexpr std::string_view name = "c";
};
struct d {
  static constexpr std::string_view name = "d";
};

template <std::size_t N>
constexpr bool same(const std::array<int, N>& x, std::initializer_list<int> y) {
  return std::equal(x.begin(), x.end(), y.begin(), y.end());
}
}  // namespace

// The built-in IDs are fixed, in default order.
static_assert(state_id::banner == 0 && state_id::ehlo == 1 && state_id::helo == 2 &&
              state_id::starttls == 3 && state_id::auth == 4 && state_id::mail == 5 &&
              state_id::rcpt == 6 && state_id::data == 7 && state_id::rset == 8 &&
              state_id::quit == 9);
static_assert(same(default_pipeline::order(), {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
static_assert(default_pipeline::id_of<states::rset>() == state_id::rset);

TEST_CASE("custom states get IDs 10, 11, ... in registration order [smtpipe]") {
  using P = pipeline<insert_after<state_id::ehlo, xclient>, insert_after<state_id::head, proxy>>;
  static_assert(P::id_of<xclient>() == 10);
  static_assert(P::id_of<proxy>() == 11);
  static_assert(P::size == 12);
  // -1 puts proxy before banner; xclient right after ehlo.
  static_assert(same(P::order(), {11, 0, 1, 10, 2, 3, 4, 5, 6, 7, 8, 9}));
  CHECK(P::name_of(10) == "xclient");
  CHECK(P::name_of(state_id::quit) == "quit");
  CHECK(P::name_of(12).empty());
}

TEST_CASE("a later registration after X lands before earlier ones after X [smtpipe]") {
  using P = pipeline<insert_after<state_id::mail, a>, insert_after<state_id::mail, b>,
                     insert_after<state_id::mail, c>>;
  static_assert(same(P::order(), {0, 1, 2, 3, 4, 5, 12, 11, 10, 6, 7, 8, 9}));
}

TEST_CASE("anchors may name earlier custom states [smtpipe]") {
  using P = pipeline<insert_after<state_id::data, a>, insert_after<10, b>, insert_after<10, c>,
                     insert_after<state_id::head, d>, insert_after<13, audit>>;
  // a=10 after data; b=11 after a; c=12 after a (so before b); d=13 at head; audit=14 after d.
  static_assert(same(P::order(), {13, 14, 0, 1, 2, 3, 4, 5, 6, 7, 10, 12, 11, 8, 9}));
}

TEST_CASE("a group is its states registered one after the other [smtpipe]") {
  using G = pipeline<insert_after<state_id::rcpt, group<a, b, c>>>;
  using S = pipeline<insert_after<state_id::rcpt, a>, insert_after<10, b>, insert_after<11, c>>;
  static_assert(G::order() == S::order());
  static_assert(G::id_of<c>() == S::id_of<c>());
  // A nested group is a block: the state after it follows the nested group's last state.
  using N = pipeline<insert_after<state_id::head, group<a, group<b, c>, d>>>;
  static_assert(N::id_of<a>() == 10 && N::id_of<b>() == 11 && N::id_of<c>() == 12 &&
                N::id_of<d>() == 13);
  static_assert(same(N::order(), {10, 11, 12, 13, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  // A group inserted where earlier states already follow the anchor stays contiguous.
  using M =
      pipeline<insert_after<state_id::ehlo, audit>, insert_after<state_id::ehlo, group<a, b>>>;
  static_assert(same(M::order(), {0, 1, 11, 12, 10, 2, 3, 4, 5, 6, 7, 8, 9}));
}
