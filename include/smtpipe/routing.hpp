// smtpipe/routing.hpp - Routing to the internet: libunbound DNS, MX resolution, routed delivery.
// SPDX-License-Identifier: BSL-1.0
//
// Not included by <smtpipe.hpp>: a program that includes this header links libunbound
// (pkg-config libunbound); one that does not, does not need it. MTA-STS fetching is in
// <smtpipe/routing/mta_sts_fetcher.hpp>, not included here: only its users link libcurl.
#ifndef SMTPIPE_ROUTING_HPP
#define SMTPIPE_ROUTING_HPP

#include "smtpipe/routing/address_preference.hpp"
#include "smtpipe/routing/connection_pool.hpp"
#include "smtpipe/routing/default_trust_anchor.hpp"
#include "smtpipe/routing/deliver_routed.hpp"
#include "smtpipe/routing/dns_answer.hpp"
#include "smtpipe/routing/dns_resolver.hpp"
#include "smtpipe/routing/dns_security.hpp"
#include "smtpipe/routing/dns_type.hpp"
#include "smtpipe/routing/domain_result.hpp"
#include "smtpipe/routing/host_attempt.hpp"
#include "smtpipe/routing/host_tls_plan.hpp"
#include "smtpipe/routing/mta_sts_cache.hpp"
#include "smtpipe/routing/mta_sts_policy.hpp"
#include "smtpipe/routing/mta_sts_route.hpp"
#include "smtpipe/routing/mta_sts_source.hpp"
#include "smtpipe/routing/mx_host.hpp"
#include "smtpipe/routing/mx_record.hpp"
#include "smtpipe/routing/pool_options.hpp"
#include "smtpipe/routing/pool_stats.hpp"
#include "smtpipe/routing/resolve_route.hpp"
#include "smtpipe/routing/resolver_options.hpp"
#include "smtpipe/routing/route.hpp"
#include "smtpipe/routing/route_options.hpp"
#include "smtpipe/routing/routed_result.hpp"
#include "smtpipe/routing/routing_observer.hpp"
#include "smtpipe/routing/tls_level.hpp"
#include "smtpipe/routing/tls_report.hpp"
#include "smtpipe/routing/tls_required_no.hpp"

#endif  // !SMTPIPE_ROUTING_HPP
