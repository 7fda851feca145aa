// libFuzzer's driver, for an executable that has its own `main` (SwiftPM gives every executable one, so
// the `main` of libFuzzer's runtime is never linked): see https://llvm.org/docs/LibFuzzer.html.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));
