"""kslice_cc_proto: compiles .proto files with Debian's protoc into a cc_library.

Bazel 4.2.3 offline has no rules_proto; protoc runs from a genrule. Import paths are
workspace-relative (import "api/meta/v1/meta.proto"), and google/protobuf/*.proto come
from Debian's libprotobuf-dev under /usr/include.
"""

def kslice_cc_proto(name, srcs, deps = [], visibility = None):
    """Generates <name> (cc_library) from srcs; deps are other kslice_cc_proto targets."""
    hdrs = [s[:-len(".proto")] + ".pb.h" for s in srcs]
    ccs = [s[:-len(".proto")] + ".pb.cc" for s in srcs]
    native.filegroup(
        name = name + "_srcs",
        srcs = srcs + [d + "_srcs" for d in deps],
        visibility = visibility,
    )
    native.genrule(
        name = name + "_gen",
        srcs = srcs + [d + "_srcs" for d in deps],
        outs = hdrs + ccs,
        cmd = "/usr/bin/protoc -I. -I/usr/include --cpp_out=$(GENDIR) " +
              " ".join(["$(location %s)" % s for s in srcs]),
    )
    native.cc_library(
        name = name,
        srcs = ccs,
        hdrs = hdrs,
        deps = deps + ["//third_party/system:protobuf"],
        visibility = visibility,
    )

def kslice_cc_grpc(name, srcs, deps = [], visibility = None):
    """Generates <name> (cc_library) with the messages and gRPC C++ stubs of srcs.

    protoc runs with Debian's grpc_cpp_plugin (protobuf-compiler-grpc) from a genrule,
    writing <file>.pb.{h,cc} and <file>.grpc.pb.{h,cc}. deps are kslice_cc_proto or
    kslice_cc_grpc targets whose .proto files srcs import.
    """
    hdrs = []
    ccs = []
    for s in srcs:
        base = s[:-len(".proto")]
        hdrs += [base + ".pb.h", base + ".grpc.pb.h"]
        ccs += [base + ".pb.cc", base + ".grpc.pb.cc"]
    native.filegroup(
        name = name + "_srcs",
        srcs = srcs + [d + "_srcs" for d in deps],
        visibility = visibility,
    )
    native.genrule(
        name = name + "_gen",
        srcs = srcs + [d + "_srcs" for d in deps],
        outs = hdrs + ccs,
        cmd = "/usr/bin/protoc -I. -I/usr/include --cpp_out=$(GENDIR) --grpc_out=$(GENDIR) " +
              "--plugin=protoc-gen-grpc=/usr/bin/grpc_cpp_plugin " +
              " ".join(["$(location %s)" % s for s in srcs]),
    )
    native.cc_library(
        name = name,
        srcs = ccs,
        hdrs = hdrs,
        deps = deps + ["//third_party/system:grpc"],
        visibility = visibility,
    )
