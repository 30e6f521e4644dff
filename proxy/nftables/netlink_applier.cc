#include "proxy/nftables/netlink_applier.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "proxy/nftables/ruleset.h"

namespace kslice::proxy::nftables {
namespace {

// One message of the batch: writes itself at `buf` with sequence number `seq`.
using Message = std::function<void(char* buf, uint32_t seq)>;

struct Parser {
  IPFamily family;
  uint16_t nfproto;
  std::string fam;  // "ip" / "ip6"
  std::vector<Message> messages;

  absl::Status Unsupported(absl::string_view line) {
    return absl::UnimplementedError(absl::StrCat("not expressible as netlink here: ", line));
  }

  bool ParseAddr(absl::string_view s, std::string* bytes) {
    std::string text(s);
    unsigned char buf[16];
    if (family == IPFamily::kIPv4) {
      if (inet_pton(AF_INET, text.c_str(), buf) != 1) return false;
      bytes->assign(reinterpret_cast<char*>(buf), 4);
    } else {
      if (inet_pton(AF_INET6, text.c_str(), buf) != 1) return false;
      bytes->assign(reinterpret_cast<char*>(buf), 16);
    }
    return true;
  }

  static int Proto(absl::string_view p) {
    if (p == "tcp") return IPPROTO_TCP;
    if (p == "udp") return IPPROTO_UDP;
    if (p == "sctp") return IPPROTO_SCTP;
    return -1;
  }

  // Concatenated key, each part padded to 4 bytes as the kernel stores registers.
  bool ParseKey(absl::string_view key, std::string* out) {
    out->clear();
    for (absl::string_view part : absl::StrSplit(key, " . ")) {
      std::string bytes;
      int port = 0;
      if (int p = Proto(part); p >= 0) {
        bytes.assign(1, static_cast<char>(p));
      } else if (absl::SimpleAtoi(part, &port) && port >= 0 && port <= 65535) {
        uint16_t be = htons(static_cast<uint16_t>(port));
        bytes.assign(reinterpret_cast<char*>(&be), 2);
      } else if (!ParseAddr(part, &bytes)) {
        return false;
      }
      bytes.resize((bytes.size() + 3) / 4 * 4, '\0');
      out->append(bytes);
    }
    return !out->empty();
  }

  // Payload offsets of the network header's addresses.
  uint32_t SaddrOffset() const { return family == IPFamily::kIPv4 ? 12 : 8; }
  uint32_t DaddrOffset() const { return family == IPFamily::kIPv4 ? 16 : 24; }
  uint32_t AddrLen() const { return family == IPFamily::kIPv4 ? 4 : 16; }

  static void Payload(nftnl_rule* r, uint32_t offset, uint32_t len) {
    nftnl_expr* e = nftnl_expr_alloc("payload");
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
    nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
    nftnl_rule_add_expr(r, e);
  }
  static void Cmp(nftnl_rule* r, uint32_t op, const std::string& data) {
    nftnl_expr* e = nftnl_expr_alloc("cmp");
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
    nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data.data(), data.size());
    nftnl_rule_add_expr(r, e);
  }
  static void Bitwise(nftnl_rule* r, const std::string& mask) {
    nftnl_expr* e = nftnl_expr_alloc("bitwise");
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
    nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, mask.size());
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask.data(), mask.size());
    std::string zero(mask.size(), '\0');
    nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero.data(), zero.size());
    nftnl_rule_add_expr(r, e);
  }
  static bool Verdict(nftnl_rule* r, absl::string_view kind, absl::string_view chain) {
    int code;
    if (kind == "jump") {
      code = NFT_JUMP;
    } else if (kind == "goto") {
      code = NFT_GOTO;
    } else {
      return false;
    }
    nftnl_expr* e = nftnl_expr_alloc("immediate");
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
    nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, static_cast<uint32_t>(code));
    nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, std::string(chain).c_str());
    nftnl_rule_add_expr(r, e);
    return true;
  }

  // Fills `r` from the rule tokens; false when the shape is not supported.
  bool EncodeRule(nftnl_rule* r, const std::vector<absl::string_view>& t) {
    const size_t n = t.size();
    if (n == 2) return Verdict(r, t[0], t[1]);
    // ip daddr A [ip saddr != CIDR] jump C
    if ((n == 5 || n == 9) && t[0] == fam && t[1] == "daddr") {
      std::string addr;
      if (!ParseAddr(t[2], &addr)) return false;
      Payload(r, DaddrOffset(), AddrLen());
      Cmp(r, NFT_CMP_EQ, addr);
      if (n == 9) {
        if (t[3] != fam || t[4] != "saddr" || t[5] != "!=") return false;
        std::pair<absl::string_view, absl::string_view> cidr = absl::StrSplit(t[6], '/');
        std::string net;
        int prefix = 0;
        if (!ParseAddr(cidr.first, &net) || !absl::SimpleAtoi(cidr.second, &prefix) || prefix < 0 ||
            prefix > static_cast<int>(AddrLen() * 8)) {
          return false;
        }
        std::string mask(AddrLen(), '\0');
        for (int i = 0; i < prefix; ++i) mask[i / 8] |= static_cast<char>(0x80 >> (i % 8));
        Payload(r, SaddrOffset(), AddrLen());
        Bitwise(r, mask);
        Cmp(r, NFT_CMP_NEQ, net);
      }
      return Verdict(r, t[n - 2], t[n - 1]);
    }
    // ip saddr A jump C
    if (n == 5 && t[0] == fam && t[1] == "saddr") {
      std::string addr;
      if (!ParseAddr(t[2], &addr)) return false;
      Payload(r, SaddrOffset(), AddrLen());
      Cmp(r, NFT_CMP_EQ, addr);
      return Verdict(r, t[3], t[4]);
    }
    // numgen random mod N == 0 goto C
    if (n == 8 && t[0] == "numgen" && t[1] == "random" && t[2] == "mod" && t[4] == "==" &&
        t[5] == "0") {
      uint32_t mod = 0;
      if (!absl::SimpleAtoi(t[3], &mod) || mod == 0) return false;
      nftnl_expr* e = nftnl_expr_alloc("numgen");
      nftnl_expr_set_u32(e, NFTNL_EXPR_NG_DREG, NFT_REG_1);
      nftnl_expr_set_u32(e, NFTNL_EXPR_NG_MODULUS, mod);
      nftnl_expr_set_u32(e, NFTNL_EXPR_NG_TYPE, NFT_NG_RANDOM);
      nftnl_expr_set_u32(e, NFTNL_EXPR_NG_OFFSET, 0);
      nftnl_rule_add_expr(r, e);
      Cmp(r, NFT_CMP_EQ, std::string(4, '\0'));
      return Verdict(r, t[6], t[7]);
    }
    // meta l4proto P dnat to A:PORT
    if (n == 6 && t[0] == "meta" && t[1] == "l4proto" && t[3] == "dnat" && t[4] == "to") {
      int proto = Proto(t[2]);
      size_t colon = t[5].rfind(':');
      if (proto < 0 || colon == absl::string_view::npos) return false;
      absl::string_view host = t[5].substr(0, colon);
      if (family == IPFamily::kIPv6) {
        if (!absl::ConsumePrefix(&host, "[") || !absl::ConsumeSuffix(&host, "]")) return false;
      }
      std::string addr;
      int port = 0;
      if (!ParseAddr(host, &addr) || !absl::SimpleAtoi(t[5].substr(colon + 1), &port) ||
          port <= 0 || port > 65535) {
        return false;
      }
      nftnl_expr* meta = nftnl_expr_alloc("meta");
      nftnl_expr_set_u32(meta, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
      nftnl_expr_set_u32(meta, NFTNL_EXPR_META_DREG, NFT_REG_1);
      nftnl_rule_add_expr(r, meta);
      Cmp(r, NFT_CMP_EQ, std::string(1, static_cast<char>(proto)));
      nftnl_expr* a = nftnl_expr_alloc("immediate");
      nftnl_expr_set_u32(a, NFTNL_EXPR_IMM_DREG, NFT_REG_1);
      nftnl_expr_set(a, NFTNL_EXPR_IMM_DATA, addr.data(), addr.size());
      nftnl_rule_add_expr(r, a);
      uint16_t be = htons(static_cast<uint16_t>(port));
      nftnl_expr* p = nftnl_expr_alloc("immediate");
      nftnl_expr_set_u32(p, NFTNL_EXPR_IMM_DREG, NFT_REG_2);
      nftnl_expr_set(p, NFTNL_EXPR_IMM_DATA, &be, sizeof(be));
      nftnl_rule_add_expr(r, p);
      nftnl_expr* nat = nftnl_expr_alloc("nat");
      nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
      nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_FAMILY, nfproto);
      nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
      nftnl_expr_set_u32(nat, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
      nftnl_rule_add_expr(r, nat);
      return true;
    }
    return false;
  }

  Message Chain(uint16_t type, uint16_t flags, std::string name) {
    uint16_t nf = nfproto;
    return [type, flags, nf, name = std::move(name)](char* buf, uint32_t seq) {
      nftnl_chain* c = nftnl_chain_alloc();
      nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, kTableName);
      nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name.c_str());
      nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, type, nf, flags | NLM_F_ACK, seq);
      nftnl_chain_nlmsg_build_payload(nlh, c);
      nftnl_chain_free(c);
    };
  }

  absl::Status Line(absl::string_view line) {
    if (line.empty() || line[0] == '#') return absl::OkStatus();
    const std::string prefix = absl::StrCat(fam, " ", kTableName, " ");
    absl::string_view rest = line;
    auto take = [&](absl::string_view verb) {
      return absl::ConsumePrefix(&rest, absl::StrCat(verb, " ", prefix));
    };
    if (take("add chain")) {
      if (absl::StrContains(rest, ' ')) return Unsupported(line);  // base chain specs
      messages.push_back(Chain(NFT_MSG_NEWCHAIN, NLM_F_CREATE, std::string(rest)));
    } else if (take("flush chain")) {
      uint16_t nf = nfproto;
      std::string chain(rest);
      messages.push_back([nf, chain](char* buf, uint32_t seq) {
        nftnl_rule* r = nftnl_rule_alloc();
        nftnl_rule_set_str(r, NFTNL_RULE_TABLE, kTableName);
        nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain.c_str());
        nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_DELRULE, nf, NLM_F_ACK, seq);
        nftnl_rule_nlmsg_build_payload(nlh, r);
        nftnl_rule_free(r);
      });
    } else if (take("delete chain")) {
      messages.push_back(Chain(NFT_MSG_DELCHAIN, 0, std::string(rest)));
    } else if (take("delete set")) {
      uint16_t nf = nfproto;
      std::string name(rest);
      messages.push_back([nf, name](char* buf, uint32_t seq) {
        nftnl_set* s = nftnl_set_alloc();
        nftnl_set_set_str(s, NFTNL_SET_TABLE, kTableName);
        nftnl_set_set_str(s, NFTNL_SET_NAME, name.c_str());
        nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_DELSET, nf, NLM_F_ACK, seq);
        nftnl_set_nlmsg_build_payload(nlh, s);
        nftnl_set_free(s);
      });
    } else if (take("add element") || take("delete element")) {
      const bool add = absl::StartsWith(line, "add");
      size_t open = rest.find(" { ");
      if (open == absl::string_view::npos || !absl::EndsWith(rest, " }")) return Unsupported(line);
      std::string set(rest.substr(0, open));
      absl::string_view body = rest.substr(open + 3, rest.size() - open - 5);
      std::string verdict_kind, verdict_chain, comment;
      if (size_t colon = body.rfind(" : "); colon != absl::string_view::npos) {
        std::vector<absl::string_view> v = absl::StrSplit(body.substr(colon + 3), ' ');
        if (v.size() == 2 && (v[0] == "goto" || v[0] == "jump")) {
          verdict_kind = std::string(v[0]);
          verdict_chain = std::string(v[1]);
        } else if (v.size() == 1 && (v[0] == "drop" || v[0] == "accept")) {
          verdict_kind = std::string(v[0]);
        } else {
          return Unsupported(line);
        }
        body = body.substr(0, colon);
      }
      if (size_t c = body.find(" comment \""); c != absl::string_view::npos) {
        absl::string_view quoted = body.substr(c + 10);
        if (!absl::ConsumeSuffix(&quoted, "\"") || absl::StrContains(quoted, '"')) {
          return Unsupported(line);
        }
        comment = std::string(quoted);
        body = body.substr(0, c);
      }
      std::string key;
      if (!ParseKey(body, &key)) return Unsupported(line);
      uint16_t nf = nfproto;
      messages.push_back([=](char* buf, uint32_t seq) {
        nftnl_set* s = nftnl_set_alloc();
        nftnl_set_set_str(s, NFTNL_SET_TABLE, kTableName);
        nftnl_set_set_str(s, NFTNL_SET_NAME, set.c_str());
        nftnl_set_elem* e = nftnl_set_elem_alloc();
        nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key.data(), key.size());
        if (add && !verdict_kind.empty()) {
          int code = verdict_kind == "goto"   ? NFT_GOTO
                     : verdict_kind == "jump" ? NFT_JUMP
                     : verdict_kind == "drop" ? NF_DROP
                                              : NF_ACCEPT;
          nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, static_cast<uint32_t>(code));
          if (!verdict_chain.empty()) {
            nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, verdict_chain.c_str());
          }
        }
        if (add && !comment.empty()) {
          nftnl_udata_buf* ud = nftnl_udata_buf_alloc(256);
          nftnl_udata_put_strz(ud, NFTNL_UDATA_SET_ELEM_COMMENT, comment.c_str());
          nftnl_set_elem_set(e, NFTNL_SET_ELEM_USERDATA, nftnl_udata_buf_data(ud),
                             nftnl_udata_buf_len(ud));
          nftnl_udata_buf_free(ud);
        }
        nftnl_set_elem_add(s, e);
        nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM,
                                              nf, (add ? NLM_F_CREATE : 0) | NLM_F_ACK, seq);
        nftnl_set_elems_nlmsg_build_payload(nlh, s);
        nftnl_set_free(s);
      });
    } else if (take("add rule")) {
      std::vector<absl::string_view> t = absl::StrSplit(rest, ' ');
      if (t.size() < 3) return Unsupported(line);
      std::string chain(t[0]);
      t.erase(t.begin());
      nftnl_rule* probe = nftnl_rule_alloc();
      bool ok = EncodeRule(probe, t);
      nftnl_rule_free(probe);
      if (!ok) return Unsupported(line);
      std::vector<std::string> tokens(t.begin(), t.end());
      messages.push_back([this, chain, tokens](char* buf, uint32_t seq) {
        std::vector<absl::string_view> tv(tokens.begin(), tokens.end());
        nftnl_rule* r = nftnl_rule_alloc();
        nftnl_rule_set_str(r, NFTNL_RULE_TABLE, kTableName);
        nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain.c_str());
        EncodeRule(r, tv);
        nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_NEWRULE, nfproto,
                                              NLM_F_APPEND | NLM_F_CREATE | NLM_F_ACK, seq);
        nftnl_rule_nlmsg_build_payload(nlh, r);
        nftnl_rule_free(r);
      });
    } else {
      return Unsupported(line);
    }
    return absl::OkStatus();
  }
};

}  // namespace

NetlinkApplier::NetlinkApplier(IPFamily family, mnl_socket* socket)
    : family_(family), socket_(socket), port_id_(mnl_socket_get_portid(socket)) {}

NetlinkApplier::~NetlinkApplier() { mnl_socket_close(socket_); }

absl::StatusOr<std::unique_ptr<NetlinkApplier>> NetlinkApplier::Create(IPFamily family) {
  mnl_socket* s = mnl_socket_open(NETLINK_NETFILTER);
  if (s == nullptr) {
    return absl::UnavailableError(absl::StrCat("netlink socket: ", std::strerror(errno)));
  }
  if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0) {
    int err = errno;
    mnl_socket_close(s);
    return absl::UnavailableError(absl::StrCat("netlink bind: ", std::strerror(err)));
  }
  return std::unique_ptr<NetlinkApplier>(new NetlinkApplier(family, s));
}

absl::Status NetlinkApplier::Apply(absl::string_view text) {
  Parser p{family_,
           static_cast<uint16_t>(family_ == IPFamily::kIPv4 ? NFPROTO_IPV4 : NFPROTO_IPV6),
           family_ == IPFamily::kIPv4 ? "ip" : "ip6",
           {}};
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::Status s = p.Line(line); !s.ok()) return s;
  }
  if (p.messages.empty()) return absl::OkStatus();

  // Each message is far below 4 KiB; the batch is sized for them all.
  const size_t limit = (p.messages.size() + 2) * 4096;
  std::vector<char> buf(limit + 4096 * 4);
  mnl_nlmsg_batch* batch = mnl_nlmsg_batch_start(buf.data(), limit);
  nftnl_batch_begin(static_cast<char*>(mnl_nlmsg_batch_current(batch)), seq_++);
  mnl_nlmsg_batch_next(batch);
  const uint32_t first_seq = seq_;
  for (const Message& m : p.messages) {
    m(static_cast<char*>(mnl_nlmsg_batch_current(batch)), seq_++);
    mnl_nlmsg_batch_next(batch);
  }
  const uint32_t end_seq = seq_;
  nftnl_batch_end(static_cast<char*>(mnl_nlmsg_batch_current(batch)), seq_++);
  mnl_nlmsg_batch_next(batch);
  ssize_t sent =
      mnl_socket_sendto(socket_, mnl_nlmsg_batch_head(batch), mnl_nlmsg_batch_size(batch));
  mnl_nlmsg_batch_stop(batch);
  if (sent < 0) {
    return absl::UnavailableError(absl::StrCat("netlink send: ", std::strerror(errno)));
  }
  // One ack (error 0) or error per message, each carrying its sequence number.
  size_t pending = p.messages.size();
  int first_error = 0;
  uint32_t error_seq = 0;
  std::vector<char> rbuf(MNL_SOCKET_BUFFER_SIZE * 4);
  while (pending > 0) {
    ssize_t n = mnl_socket_recvfrom(socket_, rbuf.data(), rbuf.size());
    if (n < 0) {
      return absl::UnavailableError(absl::StrCat("netlink receive: ", std::strerror(errno)));
    }
    int len = static_cast<int>(n);
    for (nlmsghdr* nlh = reinterpret_cast<nlmsghdr*>(rbuf.data()); mnl_nlmsg_ok(nlh, len);
         nlh = mnl_nlmsg_next(nlh, &len)) {
      if (nlh->nlmsg_type != NLMSG_ERROR || nlh->nlmsg_seq < first_seq ||
          nlh->nlmsg_seq >= end_seq) {
        continue;
      }
      const nlmsgerr* err = static_cast<const nlmsgerr*>(mnl_nlmsg_get_payload(nlh));
      if (err->error != 0 && first_error == 0) {
        first_error = -err->error;
        error_seq = nlh->nlmsg_seq;
      }
      if (pending > 0) --pending;
    }
  }
  if (first_error != 0) {
    // Name the statement that failed (messages are in line order, comments skipped).
    size_t index = error_seq - first_seq;
    std::string statement;
    size_t i = 0;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (line.empty() || line[0] == '#') continue;
      if (i++ == index) {
        statement = std::string(line);
        break;
      }
    }
    return absl::UnavailableError(absl::StrCat("nf_tables refused the batch (nothing applied): ",
                                               std::strerror(first_error), " at: ", statement));
  }
  return absl::OkStatus();
}

}  // namespace kslice::proxy::nftables
