#include "controller/workqueue/rate_limiting_queue.h"

namespace kslice::controller::workqueue {

RateLimitingQueue::RateLimitingQueue(std::unique_ptr<RateLimiter> limiter, QueueConfig config)
    : limiter_(limiter != nullptr
                   ? std::move(limiter)
                   : DefaultControllerRateLimiter(
                         config.clock != nullptr ? config.clock
                                                 : &client::flowcontrol::Clock::Real())),
      queue_(config) {}

}  // namespace kslice::controller::workqueue
