// The standard configuration of the embedded API server: plugs the libraries that
// implement defaulting (envtest/defaults), validation (envtest/validation), PATCH
// (envtest/patch), server-side apply and managedFields (envtest/fieldmanager),
// discovery and OpenAPI (envtest/discovery) and kubectl's tables (envtest/printers)
// into ServerOptions::hooks.
//
//   ServerOptions o;
//   if (absl::Status s = InstallStandardHooks(&o); !s.ok()) ...
//   auto server = APIServer::Create(std::move(o));
#ifndef KSLICE_ENVTEST_APISERVER_WIRING_H_
#define KSLICE_ENVTEST_APISERVER_WIRING_H_

#include "absl/status/status.h"
#include "envtest/apiserver/apiserver.h"

namespace kslice::envtest::apiserver {

// Uses options->store.registry (Builtin when null). `server_address` ("host:port")
// goes into /api's serverAddressByClientCIDRs.
absl::Status InstallStandardHooks(ServerOptions* options, const std::string& server_address = "");

}  // namespace kslice::envtest::apiserver

#endif  // KSLICE_ENVTEST_APISERVER_WIRING_H_
