import Foundation
import CardApplication
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

/// A card in software, as `GatewayClient.SoftwareCard` computes it (protocol/card.md: ATC up by one per
/// request, a cryptogram over exactly the amount), with its unpredictable numbers from the bench's own
/// generator rather than the system's (four `getrandom` calls a request showed in the load process's profile).
struct BenchCard: Sendable {
    let pan: PAN
    let key: [UInt8]
    private(set) var atc: UInt16

    init(pan: PAN, key: [UInt8], atc: UInt16 = 0) {
        self.pan = pan
        self.key = key
        self.atc = atc
    }

    mutating func cardObject(amountCents: Int64, random: inout SplitMix64) -> JSONValue {
        atc &+= 1
        let un = UInt32(truncatingIfNeeded: random.next())
        let cryptogram = try! Cryptogram.compute(key: key, pan: pan, atc: atc, unpredictableNumber: un,
                                                  amountCents: amountCents, currency: Money.currencyNumericEUR)
        let unHex = String(un, radix: 16)
        return .object([
            ("pan", .string(pan.digits)), ("atc", .int(Int64(atc))),
            ("un", .string(String(repeating: "0", count: 8 - unHex.count) + unHex)),
            ("cryptogram", .string(Hex.encode(cryptogram))),
        ])
    }
}

/// The purchases one terminal sends: its own cards in turn (each card's ATC only goes up), small random
/// amounts, a `stan` unique to this terminal and this run (`kind` + a tag of the start time + a counter).
struct PurchaseGenerator: Sendable {
    private var cards: [BenchCard]
    private var nextCard = 0
    private var counter = 0
    private let stanPrefix: String
    private let maxAmount: Int64
    private var random: SplitMix64

    init(cards: [BenchCard], kind: Character, runTag: String, maxAmount: Int64, seed: UInt64) {
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
        let card = cards[nextCard].cardObject(amountCents: amount, random: &random)
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

/// Where each thread of a process spent a window (from /proc/PID/task/*/schedstat): on a CPU, or ready
/// to run but waiting for one (the machine's cores were busy); the rest of the window it was blocked
/// (waiting for work, a lock, or the disk).
struct ThreadCPUSnapshot {
    /// Thread id → (name, nanoseconds on a CPU, nanoseconds runnable but waiting for a CPU).
    let threads: [Int: (name: String, running: UInt64, waiting: UInt64)]
    let at: UInt64

    init?(pid: Int32) {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task") else { return nil }
        var threads: [Int: (String, UInt64, UInt64)] = [:]
        for task in tasks {
            guard let tid = Int(task),
                  let comm = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/comm", encoding: .utf8),
                  let schedstat = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/schedstat", encoding: .utf8)
            else { continue }
            let fields = schedstat.split(whereSeparator: { $0 == " " || $0 == "\n" })
            guard fields.count >= 2, let running = UInt64(fields[0]), let waiting = UInt64(fields[1]) else { continue }
            threads[tid] = (comm.trimmingCharacters(in: .whitespacesAndNewlines), running, waiting)
        }
        self.threads = threads
        self.at = Clock.now()
    }

    struct Usage {
        /// On a CPU, in % of one core, all threads together.
        let total: Double
        let cpuSeconds: Double
        /// Per thread name (threads of one name summed), busiest first: % on a CPU, % runnable but waiting.
        let byName: [(name: String, running: Double, waiting: Double)]
    }

    func usage(since earlier: ThreadCPUSnapshot) -> Usage {
        let window = Double(at - earlier.at)
        var byName: [String: (UInt64, UInt64)] = [:]
        for (tid, thread) in threads {
            let before = earlier.threads[tid]
            let running = thread.running - min(thread.running, before?.running ?? 0)
            let waiting = thread.waiting - min(thread.waiting, before?.waiting ?? 0)
            let sum = byName[thread.name, default: (0, 0)]
            byName[thread.name] = (sum.0 + running, sum.1 + waiting)
        }
        let total = byName.values.reduce(0) { $0 + $1.0 }
        return Usage(total: Double(total) / window * 100, cpuSeconds: Double(total) / 1e9,
                     byName: byName.filter { $0.value.0 > 0 }.sorted { $0.value.0 > $1.value.0 }
                         .map { ($0.key, Double($0.value.0) / window * 100, Double($0.value.1) / window * 100) })
    }

    static func describe(_ usage: Usage) -> String {
        "\(format(usage.total, decimals: 0))% of a core on CPU ("
            + usage.byName.filter { $0.running >= 0.5 }.prefix(6).map { "\($0.name) \(format($0.running, decimals: 0))% + \(format($0.waiting, decimals: 0))% runnable, waiting for a core" }
                .joined(separator: "; ") + ")"
    }
}
