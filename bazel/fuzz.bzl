"""kslice_fuzz_test: one libFuzzer target, two ways to run it.

  <name>          a cc_test (g++) that replays the seed corpus and a fixed number of
                  deterministic mutations of it through the target: a regression test
                  that runs on every `./dev test`.
  <name>_fuzzer   the libFuzzer binary, built with `--config=fuzz` (clang,
                  -fsanitize=fuzzer,address); `./dev fuzz` runs each for a bounded time.
"""

def kslice_fuzz_test(name, srcs, deps = [], corpus = [], size = "small"):
    native.filegroup(
        name = name + "_corpus",
        srcs = corpus,
    )
    native.cc_test(
        name = name,
        srcs = srcs,
        deps = deps + ["//testing/fuzz:replay_main"],
        data = [":" + name + "_corpus"],
        args = ["$(locations :%s_corpus)" % name] if corpus else [],
        size = size,
    )
    native.cc_binary(
        name = name + "_fuzzer",
        srcs = srcs,
        deps = deps,
        linkopts = select({
            "//testing/fuzz:fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        tags = ["manual", "fuzzer"],
        target_compatible_with = select({
            "//testing/fuzz:fuzzing": [],
            "//conditions:default": ["@platforms//:incompatible"],
        }),
    )
