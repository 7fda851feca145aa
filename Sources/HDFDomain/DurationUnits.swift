import Foundation

/// A `Duration` in the units the system calls take (a `Date` offset, a monotonic clock in nanoseconds, a
/// command-line option in milliseconds), in one place.
extension Duration {
    public var timeInterval: TimeInterval { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    public var nanoseconds: Int64 { components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000 }
    public var milliseconds: Int64 { components.seconds * 1_000 + components.attoseconds / 1_000_000_000_000_000 }
}
