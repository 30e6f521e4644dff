#include "proxy/trace/nft_json.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rapidjson/document.h"
#include "rapidjson/error/en.h"

namespace kslice::proxy::trace {
namespace {

using rapidjson::Value;

std::string Str(const Value& v, const char* key) {
  if (!v.IsObject()) return "";
  auto it = v.FindMember(key);
  if (it == v.MemberEnd()) return "";
  if (it->value.IsString()) return it->value.GetString();
  if (it->value.IsInt64()) return absl::StrCat(it->value.GetInt64());
  return "";
}

// A value expression as nft prints it: "10.96.204.67", "tcp", "80", "192.168.0.0/16",
// "@set", "{ a, b }", "ip saddr", "meta l4proto", "numgen random mod 2".
std::string Expr(const Value& v) {
  if (v.IsString()) return v.GetString();
  if (v.IsInt64()) return absl::StrCat(v.GetInt64());
  if (v.IsBool()) return v.GetBool() ? "true" : "false";
  if (v.IsArray()) {
    std::vector<std::string> parts;
    for (const Value& x : v.GetArray()) parts.push_back(Expr(x));
    return absl::StrCat("{ ", absl::StrJoin(parts, ", "), " }");
  }
  if (!v.IsObject() || v.MemberCount() == 0) return "?";
  const auto& m = *v.MemberBegin();
  std::string k = m.name.GetString();
  const Value& b = m.value;
  if (k == "payload") return absl::StrCat(Str(b, "protocol"), " ", Str(b, "field"));
  if (k == "meta") return absl::StrCat("meta ", Str(b, "key"));
  if (k == "prefix") return absl::StrCat(Str(b, "addr"), "/", Str(b, "len"));
  if (k == "range" && b.IsArray() && b.Size() == 2) {
    return absl::StrCat(Expr(b[0]), "-", Expr(b[1]));
  }
  if (k == "concat" && b.IsArray()) {
    std::vector<std::string> parts;
    for (const Value& x : b.GetArray()) parts.push_back(Expr(x));
    return absl::StrJoin(parts, " . ");
  }
  if (k == "set") return Expr(b);
  if (k == "numgen") {
    return absl::StrCat("numgen ", Str(b, "mode"), " mod ", Str(b, "mod"));
  }
  if (k == "fib") {
    std::string flags;
    if (auto f = b.FindMember("flags"); f != b.MemberEnd()) flags = Expr(f->value);
    return absl::StrCat("fib ", flags, " ", Str(b, "result"));
  }
  if (k == "ct") return absl::StrCat("ct ", Str(b, "key"));
  if (k == "elem") {
    if (auto val = b.FindMember("val"); val != b.MemberEnd()) return Expr(val->value);
  }
  return k;
}

// A verdict object ({"goto": {"target": X}}, {"drop": null}) -> verdict, target.
bool Verdict(const Value& v, std::string& verdict, std::string& target) {
  if (!v.IsObject() || v.MemberCount() == 0) return false;
  std::string k = v.MemberBegin()->name.GetString();
  if (k == "jump" || k == "goto") {
    verdict = k;
    target = Str(v.MemberBegin()->value, "target");
    return true;
  }
  if (k == "drop" || k == "accept" || k == "return" || k == "reject" || k == "continue") {
    verdict = k;
    target.clear();
    return true;
  }
  return false;
}

std::vector<std::string> KeyParts(const Value& v, std::string& comment) {
  const Value* key = &v;
  if (v.IsObject() && v.HasMember("elem")) {
    const Value& e = v["elem"];
    comment = Str(e, "comment");
    if (e.IsObject() && e.HasMember("val")) key = &e["val"];
  }
  std::vector<std::string> out;
  if (key->IsObject() && key->HasMember("concat") && (*key)["concat"].IsArray()) {
    for (const Value& x : (*key)["concat"].GetArray()) out.push_back(Expr(x));
  } else {
    out.push_back(Expr(*key));
  }
  return out;
}

void ParseRule(const Value& r, NftRule& out) {
  out.chain = Str(r, "chain");
  out.comment = Str(r, "comment");
  std::vector<std::string> text;
  auto expr = r.FindMember("expr");
  if (expr == r.MemberEnd() || !expr->value.IsArray()) return;
  for (const Value& st : expr->value.GetArray()) {
    if (!st.IsObject() || st.MemberCount() == 0) continue;
    std::string k = st.MemberBegin()->name.GetString();
    const Value& b = st.MemberBegin()->value;
    std::string verdict, target;
    if (Verdict(st, verdict, target)) {
      out.verdict = verdict;
      out.target = target;
      text.push_back(target.empty() ? verdict : absl::StrCat(verdict, " ", target));
    } else if (k == "match" && b.IsObject() && b.HasMember("left") && b.HasMember("right")) {
      std::string op = Str(b, "op");
      std::string left = Expr(b["left"]);
      std::string right = Expr(b["right"]);
      bool negated = op == "!=";
      if (left == "ip saddr" || left == "ip6 saddr") {
        if (!right.empty() && right[0] == '@') {
          out.saddr_set = right.substr(1);
        } else {
          out.saddr = negated ? absl::StrCat("!=", right) : right;
        }
      }
      if (left == "ip daddr" || left == "ip6 daddr") {
        out.daddr = negated ? absl::StrCat("!=", right) : right;
      }
      const Value& l = b["left"];
      if (op == "==" && l.IsObject() && l.HasMember("numgen") && l["numgen"].IsObject() &&
          l["numgen"].HasMember("mod") && l["numgen"]["mod"].IsInt() && b["right"].IsInt()) {
        out.numgen_match_mod = l["numgen"]["mod"].GetInt();
        out.numgen_match_value = b["right"].GetInt();
      }
      text.push_back(op == "==" || op == "in" ? absl::StrCat(left, " ", right)
                                              : absl::StrCat(left, " ", op, " ", right));
    } else if (k == "vmap" && b.IsObject() && b.HasMember("key") && b.HasMember("data")) {
      const Value& key = b["key"];
      const Value& data = b["data"];
      std::vector<std::string> items;
      if (key.IsObject() && key.HasMember("numgen")) {
        const Value& ng = key["numgen"];
        if (ng.IsObject() && ng.HasMember("mod") && ng["mod"].IsInt()) out.numgen_mod = ng["mod"].GetInt();
      }
      const Value* set = &data;
      if (data.IsObject() && data.HasMember("set")) set = &data["set"];
      if (set->IsArray()) {
        for (const Value& pair : set->GetArray()) {
          if (!pair.IsArray() || pair.Size() != 2) continue;
          std::string v, t;
          Verdict(pair[1], v, t);
          items.push_back(absl::StrCat(Expr(pair[0]), " : ", v, t.empty() ? "" : " ", t));
          if (out.numgen_mod > 0 && pair[0].IsInt()) out.numgen_targets.emplace_back(pair[0].GetInt(), t);
        }
        text.push_back(absl::StrCat(Expr(key), " vmap { ", absl::StrJoin(items, ", "), " }"));
      } else {
        text.push_back(absl::StrCat(Expr(key), " vmap ", Expr(data)));
      }
    } else if (k == "dnat") {
      std::string addr = Str(b, "addr");
      std::string port = Str(b, "port");
      bool v6 = addr.find(':') != std::string::npos;
      out.dnat = port.empty() ? addr : absl::StrCat(v6 ? "[" : "", addr, v6 ? "]" : "", ":", port);
      text.push_back(absl::StrCat("dnat to ", out.dnat));
    } else if (k == "set" && b.IsObject()) {
      std::string set = Str(b, "set");
      if (!set.empty() && set[0] == '@') set = set.substr(1);
      out.update_set = set;
      std::string elem = b.HasMember("elem") ? Expr(b["elem"]) : "";
      text.push_back(absl::StrCat(Str(b, "op"), " @", set, " { ", elem, " }"));
    } else if (k == "masquerade") {
      text.push_back("masquerade");
    } else if (k == "mangle") {
      text.push_back("mark set ...");
    } else if (k == "counter") {
      text.push_back("counter");
    } else {
      text.push_back(k);
    }
  }
  if (!out.comment.empty()) text.push_back(absl::StrCat("comment \"", out.comment, "\""));
  out.text = absl::StrJoin(text, " ");
}

}  // namespace

std::string NftMapElement::KeyString() const { return absl::StrJoin(key, " . "); }

absl::StatusOr<NftRuleset> ParseNftJson(absl::string_view json) {
  rapidjson::Document doc;
  doc.Parse(json.data(), json.size());
  if (doc.HasParseError()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not JSON (offset ", doc.GetErrorOffset(), "): ",
                     rapidjson::GetParseError_En(doc.GetParseError())));
  }
  if (!doc.IsObject() || !doc.HasMember("nftables") || !doc["nftables"].IsArray()) {
    return absl::InvalidArgumentError("not nft's JSON: no \"nftables\" array");
  }
  NftRuleset out;
  for (const Value& o : doc["nftables"].GetArray()) {
    if (!o.IsObject() || o.MemberCount() == 0) continue;
    std::string kind = o.MemberBegin()->name.GetString();
    const Value& b = o.MemberBegin()->value;
    if (kind == "table") {
      out.family = Str(b, "family");
      out.table = Str(b, "name");
    } else if (kind == "chain") {
      std::string name = Str(b, "name");
      out.chains[name].name = name;
    } else if (kind == "map" || kind == "set") {
      std::string name = Str(b, "name");
      bool is_map = kind == "map";
      if (is_map) out.maps[name];
      else out.sets[name];
      auto elems = b.FindMember("elem");
      if (elems == b.MemberEnd() || !elems->value.IsArray()) continue;
      for (const Value& e : elems->value.GetArray()) {
        if (is_map && e.IsArray() && e.Size() == 2) {
          NftMapElement me;
          me.key = KeyParts(e[0], me.comment);
          Verdict(e[1], me.verdict, me.target);
          out.maps[name].push_back(std::move(me));
        } else if (!is_map) {
          std::string comment;
          out.sets[name].push_back(absl::StrJoin(KeyParts(e, comment), " . "));
        }
      }
    } else if (kind == "rule") {
      NftRule r;
      ParseRule(b, r);
      if (r.chain.empty()) return absl::InvalidArgumentError("a rule without a chain");
      out.chains[r.chain].name = r.chain;
      out.chains[r.chain].rules.push_back(std::move(r));
    }
  }
  if (out.table.empty()) return absl::InvalidArgumentError("nft's JSON lists no table");
  return out;
}

}  // namespace kslice::proxy::trace
