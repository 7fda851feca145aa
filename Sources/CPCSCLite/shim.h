// pcsc-lite's client API (Debian: libpcsclite-dev, pkg-config libpcsclite).
// Only the PCSC module imports this; the gateway server never links it.
#ifndef HDF_CPCSCLITE_SHIM_H
#define HDF_CPCSCLITE_SHIM_H
#include <PCSC/winscard.h>
#include <PCSC/reader.h>
#endif
