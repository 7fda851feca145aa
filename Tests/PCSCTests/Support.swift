@_exported import PCSCTestSupport

/// PCSCTests use the second test reader, "HDF Test VPCD 00 01" (TerminalTests the first).
let TestPCSCD = TestPCSCDReader(index: 1)
