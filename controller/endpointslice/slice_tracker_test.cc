#include "controller/endpointslice/slice_tracker.h"

#include <memory>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace kslice::endpointslice {
namespace {

using api::core::v1::Service;
using api::discovery::v1::EndpointSlice;

EndpointSlice Slice(const std::string& uid, int64_t generation,
                    const std::string& service = "svc", const std::string& ns = "ns") {
  EndpointSlice s;
  s.mutable_metadata()->set_namespace_(ns);
  s.mutable_metadata()->set_name("slice-" + uid);
  s.mutable_metadata()->set_uid(uid);
  s.mutable_metadata()->set_generation(generation);
  (*s.mutable_metadata()->mutable_labels())["kubernetes.io/service-name"] = service;
  return s;
}

Service Svc(const std::string& name = "svc", const std::string& ns = "ns") {
  Service s;
  s.mutable_metadata()->set_namespace_(ns);
  s.mutable_metadata()->set_name(name);
  return s;
}

std::vector<std::shared_ptr<const EndpointSlice>> List(std::vector<EndpointSlice> slices) {
  std::vector<std::shared_ptr<const EndpointSlice>> out;
  for (auto& s : slices) out.push_back(std::make_shared<const EndpointSlice>(std::move(s)));
  return out;
}

TEST(SliceTrackerTest, UpdateHasAndShouldSync) {
  SliceTracker tracker;
  EndpointSlice s = Slice("a", 1);
  EXPECT_FALSE(tracker.Has(s));
  EXPECT_TRUE(tracker.ShouldSync(s));

  tracker.Update(s);
  EXPECT_TRUE(tracker.Has(s));
  EXPECT_FALSE(tracker.ShouldSync(s));               // our own write echoed
  EXPECT_FALSE(tracker.ShouldSync(Slice("a", 0)));   // older than what we wrote
  EXPECT_TRUE(tracker.ShouldSync(Slice("a", 2)));    // someone else changed it
  EXPECT_TRUE(tracker.ShouldSync(Slice("b", 1)));    // unknown uid of a known service
  EXPECT_FALSE(tracker.Has(Slice("a", 1, "other")));  // keyed by the service-name label
  EXPECT_FALSE(tracker.Has(Slice("a", 1, "svc", "ns2")));

  tracker.Update(Slice("a", 3));
  EXPECT_FALSE(tracker.ShouldSync(Slice("a", 2)));
  EXPECT_TRUE(tracker.ShouldSync(Slice("a", 4)));
}

TEST(SliceTrackerTest, ExpectedDeletionAlwaysSyncs) {
  SliceTracker tracker;
  tracker.ExpectDeletion(Slice("a", 5));
  EXPECT_TRUE(tracker.Has(Slice("a", 5)));
  EXPECT_TRUE(tracker.ShouldSync(Slice("a", 0)));
}

TEST(SliceTrackerTest, StaleSlices) {
  struct Case {
    const char* name;
    std::vector<EndpointSlice> tracked;    // recorded with Update
    std::vector<EndpointSlice> deleting;   // recorded with ExpectDeletion
    std::vector<EndpointSlice> listed;
    bool want;
  };
  const std::vector<Case> cases = {
      {"empty tracker", {}, {}, {Slice("a", 1)}, false},
      {"empty list, tracked slice", {Slice("a", 1)}, {}, {}, true},
      {"matching", {Slice("a", 1)}, {}, {Slice("a", 1)}, false},
      {"newer in tracker", {Slice("a", 2)}, {}, {Slice("a", 1)}, true},
      {"newer in list", {Slice("a", 1)}, {}, {Slice("a", 2)}, false},
      {"listed slice expected to be deleted", {Slice("b", 1)}, {Slice("a", 1)},
       {Slice("a", 1), Slice("b", 1)}, true},
      {"deleted slice gone from list", {Slice("b", 1)}, {Slice("a", 1)}, {Slice("b", 1)}, false},
      {"tracked slice missing from list", {Slice("a", 1), Slice("b", 1)}, {},
       {Slice("a", 1)}, true},
      {"other service's slices do not count", {Slice("a", 1, "other")}, {}, {}, false},
  };
  for (const Case& c : cases) {
    SliceTracker tracker;
    for (const auto& s : c.tracked) tracker.Update(s);
    for (const auto& s : c.deleting) tracker.ExpectDeletion(s);
    EXPECT_EQ(tracker.StaleSlices(Svc(), List(c.listed)), c.want) << c.name;
  }
}

TEST(SliceTrackerTest, HandleDeletion) {
  SliceTracker tracker;
  // Never tracked: nothing to resync for.
  EXPECT_TRUE(tracker.HandleDeletion(Slice("x", 1)));

  tracker.Update(Slice("a", 1));
  tracker.ExpectDeletion(Slice("b", 1));
  EXPECT_TRUE(tracker.HandleDeletion(Slice("b", 1)));   // we asked for it
  EXPECT_FALSE(tracker.Has(Slice("b", 1)));
  EXPECT_FALSE(tracker.HandleDeletion(Slice("a", 1)));  // someone else deleted ours
  EXPECT_FALSE(tracker.Has(Slice("a", 1)));
  EXPECT_TRUE(tracker.HandleDeletion(Slice("a", 1)));   // already forgotten
  EXPECT_FALSE(tracker.StaleSlices(Svc(), {}));
}

TEST(SliceTrackerTest, DeleteService) {
  SliceTracker tracker;
  tracker.Update(Slice("a", 1));
  tracker.Update(Slice("b", 1, "other"));
  tracker.DeleteService("ns", "svc");
  EXPECT_FALSE(tracker.Has(Slice("a", 1)));
  EXPECT_TRUE(tracker.ShouldSync(Slice("a", 1)));
  EXPECT_FALSE(tracker.StaleSlices(Svc(), {}));
  EXPECT_TRUE(tracker.Has(Slice("b", 1, "other")));
}

TEST(SliceTrackerTest, ConcurrentUse) {
  SliceTracker tracker;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&tracker, t] {
      const std::string svc = "svc" + std::to_string(t % 2);
      for (int i = 0; i < 200; ++i) {
        EndpointSlice s = Slice(std::to_string(t) + "-" + std::to_string(i), i, svc);
        tracker.Update(s);
        tracker.ShouldSync(s);
        tracker.StaleSlices(Svc(svc), {});
        if (i % 2 == 0) {
          tracker.ExpectDeletion(s);
          tracker.HandleDeletion(s);
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_TRUE(tracker.Has(Slice("0-1", 1, "svc0")));
  EXPECT_FALSE(tracker.Has(Slice("0-2", 2, "svc0")));
}

}  // namespace
}  // namespace kslice::endpointslice
