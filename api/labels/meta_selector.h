// metav1.LabelSelector -> labels::Selector, as upstream's LabelSelectorAsSelector.
//
//   nullptr (a nil selector)            -> Selector::Nothing()
//   no matchLabels, no matchExpressions -> Selector::Everything()
//   otherwise  key=value for each matchLabels entry, AND each matchExpression with
//              operator "In", "NotIn", "Exists" or "DoesNotExist" (exact spelling).
//
// Keys, values and value counts are validated as Requirement::Create does; any other
// operator, or an invalid requirement, is an InvalidArgument error. Requirements are
// sorted by key; on the same key, matchLabels come first, then expressions in order.
#ifndef KSLICE_API_LABELS_META_SELECTOR_H_
#define KSLICE_API_LABELS_META_SELECTOR_H_

#include "absl/status/statusor.h"
#include "api/labels/selector.h"
#include "api/meta/v1/meta.pb.h"

namespace kslice::labels {

absl::StatusOr<Selector> FromLabelSelector(const kslice::api::meta::v1::LabelSelector* selector);

}  // namespace kslice::labels

#endif  // KSLICE_API_LABELS_META_SELECTOR_H_
