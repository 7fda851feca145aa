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

    public init?(iso text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public var iso: String {
        func pad(_ v: Int, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
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

    /// An instant as ISO 8601 with the Paris offset, e.g. `2026-11-26T22:19:23+01:00`.
    public static func isoTimestamp(millis: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = timeZone
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }

    public static func nowMillis() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded())
    }
}
