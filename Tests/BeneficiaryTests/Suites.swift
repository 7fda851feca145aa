import Testing

/// Every suite of this target runs inside this one, one test at a time: the load tests measure times
/// (a beneficiary's prepay under the gateway's load) that other tests running alongside would distort,
/// and 2 cores do not gain from running gateways side by side.
@Suite("Beneficiary side (contract §5): the beneficiary executable against a live gateway", .serialized)
enum BeneficiarySide {}
