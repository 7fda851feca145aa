import Foundation

/// A calendar day (no time, no zone), printed as ISO 8601 `YYYY-MM-DD`.
/// The business day of the project is the Europe/Paris calendar day (contract: "Money... Dates").
public struct LocalDate: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1970...9999).contains(year), (1...12).contains(month),
              (1...LocalDate.daysIn(month: month, year: year)).contains(day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// `YYYY-MM-DD`, read byte by byte: every wallet read on the authorisation path parses its expiry.
    public init?(iso text: String) {
        let parsed = text.utf8.withContiguousStorageIfAvailable { LocalDate.parseISO($0) } ?? LocalDate.parseISO(Array(text.utf8))
        guard let (y, m, d) = parsed else { return nil }
        self.init(year: y, month: m, day: d)
    }

    static func parseISO<Bytes: RandomAccessCollection>(_ bytes: Bytes) -> (Int, Int, Int)? where Bytes.Element == UInt8, Bytes.Index == Int {
        guard bytes.count == 10, bytes[bytes.startIndex + 4] == UInt8(ascii: "-"), bytes[bytes.startIndex + 7] == UInt8(ascii: "-") else {
            return nil
        }
        func number(_ offset: Int, _ count: Int) -> Int? {
            var value = 0
            for index in (bytes.startIndex + offset)..<(bytes.startIndex + offset + count) {
                let byte = bytes[index]
                guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let y = number(0, 4), let m = number(5, 2), let d = number(8, 2) else { return nil }
        return (y, m, d)
    }

    public var iso: String {
        guard (0...9999).contains(year) else { return "\(year)-\(month)-\(day)" }
        var bytes = [UInt8](repeating: UInt8(ascii: "-"), count: 10)
        LocalDate.writeDigits(year, count: 4, into: &bytes, at: 0)
        LocalDate.writeDigits(month, count: 2, into: &bytes, at: 5)
        LocalDate.writeDigits(day, count: 2, into: &bytes, at: 8)
        return String(decoding: bytes, as: UTF8.self)
    }

    static func writeDigits(_ value: Int, count: Int, into bytes: inout [UInt8], at offset: Int) {
        var rest = value
        for index in stride(from: offset + count - 1, through: offset, by: -1) {
            bytes[index] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
    }

    public var description: String { iso }

    public static func < (a: LocalDate, b: LocalDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// The same day `months` later; the last day of the month when that day does not exist
    /// (31 August + 6 months = 28 or 29 February).
    public func adding(months: Int) -> LocalDate {
        let total = (year * 12 + (month - 1)) + months
        let y = total / 12
        let m = total % 12 + 1
        let d = min(day, LocalDate.daysIn(month: m, year: y))
        return LocalDate(year: y, month: m, day: d)!
    }

    public func adding(days: Int) -> LocalDate {
        var date = self
        var remaining = days
        while remaining > 0 {
            if date.day < LocalDate.daysIn(month: date.month, year: date.year) {
                date = LocalDate(year: date.year, month: date.month, day: date.day + 1)!
            } else if date.month < 12 {
                date = LocalDate(year: date.year, month: date.month + 1, day: 1)!
            } else {
                date = LocalDate(year: date.year + 1, month: 1, day: 1)!
            }
            remaining -= 1
        }
        while remaining < 0 {
            if date.day > 1 {
                date = LocalDate(year: date.year, month: date.month, day: date.day - 1)!
            } else if date.month > 1 {
                date = LocalDate(year: date.year, month: date.month - 1, day: LocalDate.daysIn(month: date.month - 1, year: date.year))!
            } else {
                date = LocalDate(year: date.year - 1, month: 12, day: 31)!
            }
            remaining += 1
        }
        return date
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = LocalDate(iso: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a YYYY-MM-DD date: \(text)"))
        }
        self = date
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso)
    }
}

/// The Europe/Paris calendar: which business day an instant falls on, and the instants that bound a day.
public enum ParisCalendar {
    public static let timeZone: TimeZone = {
        guard let zone = TimeZone(identifier: "Europe/Paris") else {
            fatalError("the Europe/Paris time zone is missing: install tzdata")
        }
        return zone
    }()

    static let calendar: Calendar = {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }()

    public static func businessDay(of instant: Date) -> LocalDate {
        let parts = calendar.dateComponents([.year, .month, .day], from: instant)
        return LocalDate(year: parts.year!, month: parts.month!, day: parts.day!)!
    }

    public static func today() -> LocalDate { businessDay(of: Date()) }

    /// The first instant of a business day (midnight in Paris), as Unix milliseconds.
    public static func startMillis(of day: LocalDate) -> Int64 {
        let components = DateComponents(timeZone: timeZone, year: day.year, month: day.month, day: day.day)
        let date = calendar.date(from: components)!
        return Int64((date.timeIntervalSince1970 * 1000).rounded())
    }

    /// An instant as ISO 8601 with the Paris offset, e.g. `2026-11-26T22:19:23+01:00` (the second truncated).
    /// Computed, not formatted: a formatter per call cost more than the rest of an echo (issue 11). The offset
    /// is the time zone's for that instant; the civil date is Howard Hinnant's days-to-civil algorithm.
    public static func isoTimestamp(millis: Int64) -> String {
        let seconds = millis >= 0 ? millis / 1000 : (millis - 999) / 1000
        let offsetSeconds = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: Double(seconds))))
        let local = seconds + offsetSeconds
        let days = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let secondOfDay = Int(local - days * 86_400)
        // days since 1970-01-01 → (year, month, day)
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = Int(dayOfYear - (153 * shiftedMonth + 2) / 5 + 1)
        let month = Int(shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9)
        let year = Int(yearOfEra + era * 400 + (month <= 2 ? 1 : 0))
        var bytes = Array("0000-00-00T00:00:00+00:00".utf8)
        LocalDate.writeDigits(year, count: 4, into: &bytes, at: 0)
        LocalDate.writeDigits(month, count: 2, into: &bytes, at: 5)
        LocalDate.writeDigits(day, count: 2, into: &bytes, at: 8)
        LocalDate.writeDigits(secondOfDay / 3_600, count: 2, into: &bytes, at: 11)
        LocalDate.writeDigits(secondOfDay / 60 % 60, count: 2, into: &bytes, at: 14)
        LocalDate.writeDigits(secondOfDay % 60, count: 2, into: &bytes, at: 17)
        if offsetSeconds < 0 { bytes[19] = UInt8(ascii: "-") }
        let offsetMinutes = Int(abs(offsetSeconds) / 60)
        LocalDate.writeDigits(offsetMinutes / 60, count: 2, into: &bytes, at: 20)
        LocalDate.writeDigits(offsetMinutes % 60, count: 2, into: &bytes, at: 23)
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func nowMillis() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}
