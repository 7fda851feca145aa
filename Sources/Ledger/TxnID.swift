/// Transaction references that sort in time (issue 11): `TY` + 12 characters of Crockford's base32, whose
/// alphabet is in ASCII order, so the text order is the numeric order. The 60-bit value is the writing
/// transaction's milliseconds since 1970 (42 bits: until the year 2109) times 2^18, plus a sequence.
///
/// Why: `payments.txn` and `cancellations.txn` are primary keys. A random key lands on a random page of a
/// B-tree that grows by millions of rows, and every page a commit touches is written whole to the WAL; a key
/// that grows with time always lands on the rightmost page, which the previous commit already holds.
///
/// Unique across processes: a value is always above the largest one in the ledger, read once per write
/// transaction under the write lock (two index probes), then counted up in memory.
/// The older references (`TX` + 12 random characters) stay valid; `TY` sorts after all of them.
public enum TxnID {
    public static let prefix = "TY"
    /// Crockford's base32: digits then capitals without I, L, O, U (ASCII order).
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
    public static let characterCount = 12
    public static let largestValue: UInt64 = (1 << 60) - 1
    static let sequenceBits = 18

    /// The reference of `value` (60 bits).
    public static func text(_ value: UInt64) -> String {
        precondition(value <= largestValue, "a txn value has 60 bits")
        var bytes = Array(prefix.utf8)
        bytes.reserveCapacity(prefix.utf8.count + characterCount)
        for index in stride(from: characterCount - 1, through: 0, by: -1) {
            bytes.append(alphabet[Int((value >> (UInt64(index) * 5)) & 31)])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The value of a time-ordered reference; nil for anything else (an older random one, a typo).
    public static func value(of text: String) -> UInt64? {
        let bytes = Array(text.utf8)
        guard bytes.count == prefix.utf8.count + characterCount, text.hasPrefix(prefix) else { return nil }
        var value: UInt64 = 0
        for byte in bytes.dropFirst(prefix.utf8.count) {
            guard let digit = alphabet.firstIndex(of: byte) else { return nil }
            value = value << 5 | UInt64(digit)
        }
        return value
    }

    /// The smallest value of a millisecond. A clock outside 1970...2109 (a test's calendar) is clamped: the
    /// values stay unique and growing (each is above the largest so far), only no longer tell the time.
    public static func firstValue(atMillis millis: Int64) -> UInt64 {
        UInt64(min(max(millis, 0), (1 << 42) - 1)) << UInt64(sequenceBits)
    }
}

extension LedgerTransaction {
    /// A fresh time-ordered txn (see `TxnID`), above every txn of `payments` and `cancellations`.
    func newTxnID() throws -> String {
        let floor: UInt64
        if let last = ledger.lastTxnValue {
            floor = last
        } else {
            // Once per write transaction: another process may have written since our last one.
            // Only time-ordered references count (`TY` sorts after the older `TX` ones and before anything
            // starting `TZ`); the primary key's index answers each in one probe.
            let newestPayment = try db.scalarText("SELECT max(txn) FROM payments WHERE txn >= 'TY' AND txn < 'TZ'")
                .flatMap(TxnID.value(of:)) ?? 0
            let newestCancellation = try db.scalarText("SELECT max(txn) FROM cancellations WHERE txn >= 'TY' AND txn < 'TZ'")
                .flatMap(TxnID.value(of:)) ?? 0
            floor = max(newestPayment, newestCancellation)
        }
        guard floor < TxnID.largestValue else { throw LedgerError.storage("no txn value is left above \(TxnID.text(floor))") }
        let value = max(TxnID.firstValue(atMillis: nowMillis), floor + 1)
        ledger.lastTxnValue = value
        return TxnID.text(value)
    }
}
