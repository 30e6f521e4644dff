// Finds the read-only `shared/` folder that sits beside a kslice checkout (upstream
// wire fixtures, specs). Tests that need it skip, with a message, when it is absent,
// so a user's fresh clone still passes.
#ifndef KSLICE_TESTING_SHARED_DIR_H_
#define KSLICE_TESTING_SHARED_DIR_H_

#include <optional>
#include <string>

namespace kslice::testing {

// $KSLICE_SHARED_DIR if set and non-empty, else <checkout>/../shared if it exists
// (the checkout is found by resolving the README.md runfile). nullopt otherwise.
std::optional<std::string> SharedDir();

}  // namespace kslice::testing

#endif  // KSLICE_TESTING_SHARED_DIR_H_
