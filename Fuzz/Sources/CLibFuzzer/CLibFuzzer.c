// Only a header: LLVMFuzzerRunDriver is in libFuzzer's runtime, linked by -sanitize=fuzzer.
#include "CLibFuzzer.h"
