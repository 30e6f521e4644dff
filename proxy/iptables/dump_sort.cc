#include "proxy/iptables/dump_sort.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace kslice::proxy::iptables {
namespace {

struct Table {
  std::string name;
  std::vector<std::string> chain_order;                   // chains in first-seen order
  std::map<std::string, std::vector<std::string>> rules;  // chain -> "-A" lines
  std::vector<std::string> chain_lines;                   // chains declared with ':'
  std::vector<std::string> deletions;                     // "-X" lines
};

// Sort key of a chain: KUBE-NODEPORTS, KUBE-SERVICES, KUBE-*, others.
std::pair<int, std::string> ChainKey(const std::string& chain) {
  if (chain == "KUBE-NODEPORTS") return {0, chain};
  if (chain == "KUBE-SERVICES") return {1, chain};
  if (absl::StartsWith(chain, "KUBE-")) return {2, chain};
  return {3, chain};
}

// The comment's service name ("ns1/svc1"), or "" when the rule has no comment.
std::string CommentServiceName(absl::string_view rule, bool* has_comment) {
  constexpr absl::string_view kFlag = "--comment ";
  size_t pos = rule.find(kFlag);
  *has_comment = pos != absl::string_view::npos;
  if (!*has_comment) return "";
  absl::string_view rest = rule.substr(pos + kFlag.size());
  if (!rest.empty() && rest[0] == '"') rest.remove_prefix(1);
  size_t end = rest.find_first_of(" :\"");
  return std::string(rest.substr(0, end));
}

void SortByServiceName(std::vector<std::string>& rules, bool keep_last_rule_last) {
  std::stable_sort(rules.begin(), rules.end(), [&](const std::string& a, const std::string& b) {
    if (keep_last_rule_last) {
      if (absl::StrContains(a, "must be the last rule")) return false;
      if (absl::StrContains(b, "must be the last rule")) return true;
    }
    bool ca = false, cb = false;
    std::string na = CommentServiceName(a, &ca);
    std::string nb = CommentServiceName(b, &cb);
    if (!ca || !cb) return false;
    return na < nb;
  });
}

}  // namespace

absl::StatusOr<std::string> SortRestorePayload(absl::string_view payload) {
  std::vector<Table> tables;
  Table* current = nullptr;
  for (absl::string_view line : absl::StrSplit(payload, '\n', absl::SkipEmpty())) {
    if (line[0] == '*') {
      if (current != nullptr) return absl::InvalidArgumentError("table without COMMIT");
      tables.emplace_back();
      current = &tables.back();
      current->name = std::string(line.substr(1));
      continue;
    }
    if (current == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("line outside a table: ", line));
    }
    if (line == "COMMIT") {
      current = nullptr;
      continue;
    }
    auto note_chain = [&](const std::string& chain) {
      if (std::find(current->chain_order.begin(), current->chain_order.end(), chain) ==
          current->chain_order.end()) {
        current->chain_order.push_back(chain);
      }
    };
    if (line[0] == ':') {
      std::string chain(line.substr(1, line.find(' ') - 1));
      note_chain(chain);
      current->chain_lines.push_back(chain);
    } else if (absl::StartsWith(line, "-A ")) {
      absl::string_view rest = line.substr(3);
      std::string chain(rest.substr(0, rest.find(' ')));
      note_chain(chain);
      current->rules[chain].push_back(std::string(line));
    } else if (absl::StartsWith(line, "-X ")) {
      current->deletions.push_back(std::string(line));
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unexpected line: ", line));
    }
  }
  if (current != nullptr) return absl::InvalidArgumentError("table without COMMIT");

  std::sort(tables.begin(), tables.end(),
            [](const Table& a, const Table& b) { return a.name < b.name; });
  std::string out;
  for (Table& t : tables) {
    auto by_key = [](const std::string& a, const std::string& b) {
      return ChainKey(a) < ChainKey(b);
    };
    std::sort(t.chain_order.begin(), t.chain_order.end(), by_key);
    std::sort(t.chain_lines.begin(), t.chain_lines.end(), by_key);
    std::sort(t.deletions.begin(), t.deletions.end());
    for (const char* chain : {"KUBE-NODEPORTS", "KUBE-SERVICES"}) {
      auto it = t.rules.find(chain);
      if (it != t.rules.end()) {
        SortByServiceName(it->second, t.name == "nat" && it->first == "KUBE-SERVICES");
      }
    }
    absl::StrAppend(&out, "*", t.name, "\n");
    for (const std::string& chain : t.chain_lines) {
      absl::StrAppend(&out, ":", chain, " - [0:0]\n");
    }
    for (const std::string& chain : t.chain_order) {
      for (const std::string& rule : t.rules[chain]) absl::StrAppend(&out, rule, "\n");
    }
    for (const std::string& del : t.deletions) absl::StrAppend(&out, del, "\n");
    out.append("COMMIT\n");
  }
  return out;
}

}  // namespace kslice::proxy::iptables
