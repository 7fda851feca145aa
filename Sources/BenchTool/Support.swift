import Foundation
import GatewayClient
import HDFDomain
import NIOCore
import WireProtocol

/// A small, fast generator for amounts and unpredictable numbers (the bench needs no cryptographic randomness).
struct SplitMix64: RandomNumberGenerator, Sendable {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum Clock {
    /// Monotonic nanoseconds.
    static func now() -> UInt64 { NIODeadline.now().uptimeNanoseconds }
}

/// The purchases one terminal sends: its own cards in turn (each card's ATC only goes up), small random
/// amounts, a `stan` unique to this terminal and this run (`kind` + a tag of the start time + a counter).
struct PurchaseGenerator: Sendable {
    private var cards: [SoftwareCard]
    private var nextCard = 0
    private var counter = 0
    private let stanPrefix: String
    private let maxAmount: Int64
    private var random: SplitMix64

    init(cards: [SoftwareCard], kind: Character, runTag: String, maxAmount: Int64, seed: UInt64) {
        precondition(!cards.isEmpty)
        self.cards = cards
        self.stanPrefix = String(kind) + runTag
        self.maxAmount = max(1, maxAmount)
        self.random = SplitMix64(seed: seed)
    }

    /// A 4-character base-36 tag of the current second (repeats every ~19 days): two runs on one
    /// environment do not reuse a terminal's stans.
    static func runTag(now: Date = Date()) -> String {
        let value = Int(now.timeIntervalSince1970) % (36 * 36 * 36 * 36)
        let text = String(value, radix: 36, uppercase: true)
        return String(repeating: "0", count: 4 - text.count) + text
    }

    /// The next purchase: its id and its frame's payload.
    mutating func next() -> (id: String, payload: [UInt8]) {
        counter += 1
        let stan = stanPrefix + String(counter, radix: 36, uppercase: true)
        let amount = Int64.random(in: 1...maxAmount, using: &random)
        let card = cards[nextCard].cardObject(amountCents: amount)
        nextCard = (nextCard + 1) % cards.count
        let request = JSONValue.object([
            ("type", .string("purchase")), ("id", .string(stan)), ("stan", .string(stan)),
            ("amount", .int(amount)), ("currency", .string("EUR")), ("card", card),
        ])
        return (stan, request.encoded())
    }
}

/// Latency samples in nanoseconds → percentiles in milliseconds (nearest rank on the sorted samples).
func percentileMilliseconds(_ sorted: [UInt64], _ fraction: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let rank = max(1, Int((fraction * Double(sorted.count)).rounded(.up)))
    return Double(sorted[min(rank, sorted.count) - 1]) / 1_000_000
}

/// `VmRSS`, `VmHWM`... of a process, in KiB, from /proc/PID/status.
func procStatusKiB(pid: Int32, field: String) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(field + ":") {
        let digits = line.dropFirst(field.count + 1).filter { $0.isNumber }
        return Int(digits)
    }
    return nil
}

func format(_ value: Double, decimals: Int = 2) -> String {
    String(format: "%.\(decimals)f", value)
}

/// Writes to stdout at once (the script reads it line by line).
func say(_ line: String) {
    print(line)
    fflush(nil)
}

func warn(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
