// Reading upstream kube-proxy's nftables table from `nft -j list table ip kube-proxy`
// (libnftables' JSON schema, nft >= 0.9), reduced to what kslice-trace follows: the
// verdict-map elements (service-ips, service-nodeports, no-endpoint-services,
// no-endpoint-nodeports, firewall-ips), the sets, and per chain its rules with the
// statements kube-proxy uses (address matches, jump/goto, numgen vmaps, dnat, affinity
// set lookups and updates, drop/reject). Each rule also gets a text form close to
// `nft list`'s, for the report.
//
//   absl::StatusOr<NftRuleset> t = ParseNftJson(nft_json_output);
//   for (const NftMapElement& e : t->maps["service-ips"]) ...
//
// Expressions it does not model are kept in the text only; a document that is not
// nft's JSON (no "nftables" array, malformed JSON) is an InvalidArgument error.
#ifndef KSLICE_PROXY_TRACE_NFT_JSON_H_
#define KSLICE_PROXY_TRACE_NFT_JSON_H_

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kslice::proxy::trace {

struct NftRule {
  std::string chain;
  std::string text;  // "ip daddr 10.96.204.67 ip saddr != 192.168.0.0/16 jump mark-for-masquerade"
  std::string daddr, saddr;  // matched values, "!=" prefixed when negated
  std::string saddr_set;     // "ip saddr @affinity-..." lookup
  std::string update_set;    // "update @affinity-... { ip saddr }"
  std::string verdict;       // "jump", "goto", "drop", "reject", "accept", "return", ""
  std::string target;        // chain of jump/goto
  // numgen random mod N vmap { i : goto chain, ... }
  int numgen_mod = 0;
  std::vector<std::pair<int, std::string>> numgen_targets;
  // kslice's nftables backend instead dispatches with a cascade of rules
  // "numgen random mod k == 0 goto endpoint-…" (k = n, n-1, …, 2) and a last plain
  // "goto endpoint-…": the match's modulus and compared value (0 when not such a rule).
  int numgen_match_mod = 0;
  int numgen_match_value = -1;
  std::string dnat;  // "ip:port" of a dnat statement
  std::string comment;
};

struct NftChain {
  std::string name;
  std::vector<NftRule> rules;
};

// An element of a verdict map: key parts ("10.96.204.67", "tcp", "80"), the verdict
// ("goto", "jump", "drop", "reject") and its chain.
struct NftMapElement {
  std::vector<std::string> key;
  std::string verdict;
  std::string target;
  std::string comment;
  std::string KeyString() const;  // "10.96.204.67 . tcp . 80"
};

struct NftRuleset {
  std::string family;  // "ip" / "ip6"
  std::string table;   // "kube-proxy"
  std::map<std::string, NftChain> chains;
  std::map<std::string, std::vector<NftMapElement>> maps;
  std::map<std::string, std::vector<std::string>> sets;
};

absl::StatusOr<NftRuleset> ParseNftJson(absl::string_view json);

}  // namespace kslice::proxy::trace

#endif  // KSLICE_PROXY_TRACE_NFT_JSON_H_
