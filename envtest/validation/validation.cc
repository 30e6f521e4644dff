#include "envtest/validation/validation.h"

#include "envtest/validation/internal.h"

namespace kslice::envtest::validation {
namespace {

using internal::Errors;
namespace core = kslice::api::core::v1;
namespace coordination = kslice::api::coordination::v1;
namespace discovery = kslice::api::discovery::v1;
namespace apps = kslice::api::apps::v1;

template <typename T>
const T* As(const google::protobuf::Message& m) {
  return dynamic_cast<const T*>(&m);
}

enum class Op { kCreate, kUpdate, kStatus };

// Calls `create` / `update` / `status` for the type T when `object` is a T.
template <typename T, typename Create, typename Update, typename Status>
bool Dispatch(Op op, const google::protobuf::Message& object, const google::protobuf::Message* old,
              Create create, Update update, Status status, Errors* errs) {
  const T* obj = As<T>(object);
  if (obj == nullptr) return false;
  if (op == Op::kCreate) {
    create(*obj, errs);
    return true;
  }
  const T* prev = As<T>(*old);
  if (prev == nullptr) {
    errs->push_back(internal::Invalid("kind", std::string(old->GetDescriptor()->name()),
                                      "the stored object is of another kind"));
    return true;
  }
  if (op == Op::kUpdate) {
    update(*obj, *prev, errs);
  } else {
    status(*obj, *prev, errs);
  }
  return true;
}

Errors Run(Op op, const google::protobuf::Message& object, const google::protobuf::Message* old) {
  Errors errs;
  using namespace internal;  // NOLINT: the per-kind validators
  Dispatch<core::Pod>(op, object, old, ValidatePod, ValidatePodUpdate, ValidatePodStatusUpdate,
                      &errs) ||
      Dispatch<core::Service>(op, object, old, ValidateService, ValidateServiceUpdate,
                              ValidateServiceStatusUpdate, &errs) ||
      Dispatch<core::Namespace>(op, object, old, ValidateNamespace, ValidateNamespaceUpdate,
                                ValidateNamespaceStatusUpdate, &errs) ||
      Dispatch<core::Node>(op, object, old, ValidateNode, ValidateNodeUpdate, ValidateNodeUpdate,
                           &errs) ||
      Dispatch<core::Endpoints>(op, object, old, ValidateEndpoints, ValidateEndpointsUpdate,
                                ValidateEndpointsUpdate, &errs) ||
      Dispatch<core::Event>(op, object, old, ValidateEvent, ValidateEventUpdate,
                            ValidateEventUpdate, &errs) ||
      Dispatch<core::ConfigMap>(op, object, old, ValidateConfigMap, ValidateConfigMapUpdate,
                                ValidateConfigMapUpdate, &errs) ||
      Dispatch<coordination::Lease>(op, object, old, ValidateLease, ValidateLeaseUpdate,
                                    ValidateLeaseUpdate, &errs) ||
      Dispatch<discovery::EndpointSlice>(op, object, old, ValidateEndpointSlice,
                                         ValidateEndpointSliceUpdate, ValidateEndpointSliceUpdate,
                                         &errs) ||
      Dispatch<apps::Deployment>(op, object, old, ValidateDeployment, ValidateDeploymentUpdate,
                                 ValidateDeploymentStatusUpdate, &errs) ||
      Dispatch<apps::ReplicaSet>(op, object, old, ValidateReplicaSet, ValidateReplicaSetUpdate,
                                 ValidateReplicaSetStatusUpdate, &errs) ||
      Dispatch<apps::DaemonSet>(op, object, old, ValidateDaemonSet, ValidateDaemonSetUpdate,
                                ValidateDaemonSetStatusUpdate, &errs);
  return errs;
}

}  // namespace

std::vector<storage::FieldError> ValidateCreate(const google::protobuf::Message& object) {
  return Run(Op::kCreate, object, nullptr);
}

std::vector<storage::FieldError> ValidateUpdate(const google::protobuf::Message& object,
                                                const google::protobuf::Message& old) {
  return Run(Op::kUpdate, object, &old);
}

std::vector<storage::FieldError> ValidateStatusUpdate(const google::protobuf::Message& object,
                                                      const google::protobuf::Message& old) {
  return Run(Op::kStatus, object, &old);
}

}  // namespace kslice::envtest::validation
