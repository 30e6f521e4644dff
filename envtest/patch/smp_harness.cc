// TEMPORARY: runs upstream's strategicpatch test table (converted to JSON lines in /tmp).
#include <algorithm>
#include <fstream>
#include <iostream>
#include <string>

#include "api/codec/node.h"
#include "envtest/patch/patch.h"
#include "envtest/patch/testdata/merge_item.pb.h"

using kslice::codec::Node;

void Normalize(Node* n, const std::string& key) {
  for (size_t i = 0; i < n->values.size(); ++i) {
    Normalize(&n->values[i], n->is_object() ? n->keys[i] : key);
  }
  if (n->is_array()) {
    bool all_named = !n->values.empty();
    for (auto& v : n->values) if (!v.is_object() || v.Find("name") == nullptr) all_named = false;
    if (all_named) {
      std::stable_sort(n->values.begin(), n->values.end(), [](const Node& a, const Node& b) {
        return a.Find("name")->text < b.Find("name")->text; });
    } else if (key == "mergingIntList") {
      std::stable_sort(n->values.begin(), n->values.end(), [](const Node& a, const Node& b) {
        return a.text < b.text; });
    }
  }
}

int main(int, char** argv) {
  std::ifstream in(argv[1]);
  std::string line;
  int pass = 0, fail = 0;
  while (std::getline(in, line)) {
    auto c = kslice::codec::ParseJson(line);
    const Node& cs = *c;
    std::string desc = cs.Find("desc")->text;
    bool sort = cs.Find("sort")->boolean;
    auto patch = kslice::codec::WriteJson(*cs.Find("patch"));
    auto got = kslice::envtest::patch::ApplyStrategicMergePatch(
        *cs.Find("original"), *patch, kslice::envtest::patch::testdata::MergeItem::descriptor());
    const Node* err = cs.Find("error");
    if (err != nullptr && !err->text.empty()) {
      if (!got.ok() && got.status().message().find(err->text) != std::string::npos) { ++pass; continue; }
      ++fail;
      std::cout << "FAIL(expected error " << err->text << ") " << desc << ": " << got.status() << "\n";
      continue;
    }
    if (!got.ok()) {
      ++fail;
      std::cout << "FAIL " << desc << ": " << got.status() << "\n  patch " << *patch << "\n";
      continue;
    }
    Node g = *got, w = *cs.Find("expected");
    if (w.is_null()) w = Node::Object();
    if (sort) { Normalize(&g, ""); Normalize(&w, ""); }
    if (g.Equals(w)) { ++pass; continue; }
    ++fail;
    std::cout << "FAIL " << desc << "\n  orig  " << *kslice::codec::WriteJson(*cs.Find("original"))
              << "\n  patch " << *patch << "\n  got   " << *kslice::codec::WriteJson(g)
              << "\n  want  " << *kslice::codec::WriteJson(w) << "\n";
  }
  std::cout << pass << " pass, " << fail << " fail\n";
}
