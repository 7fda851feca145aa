import Foundation

/// French formatting of what a person reads or types (web pages, mails, PDFs). API:
///   FrenchFormat.amount(cents: 123450)            -> "1 234,50 €" (U+202F between thousands, plain space before €)
///   try FrenchFormat.parseAmountCents(" 12,5 € ")   -> 1250; throws FrenchAmountError (its `message` is French, "tu")
///   FrenchFormat.date(LocalDate)                  -> "26/05/2027";  FrenchFormat.parseDate("14/03/2008" or "2008-03-14") -> LocalDate?
///   FrenchFormat.dateTime(millis: createdAtMillis) -> "26/05/2027 à 14:05" (Europe/Paris wall clock)
///   No floating point anywhere: amounts are Int64 cents end to end.
public enum FrenchFormat {
    /// Between groups of three digits of euros: the narrow no-break space of French typography (U+202F),
    /// so "1 234,50 €" never breaks inside the number. The receipt's WinAnsi encoder prints it as 0xA0.
    public static let thousandsSeparator: Character = "\u{202F}"

    /// Longest amount text a person may type before we refuse it unread: "1 000 000,00 €" with spaces to spare.
    public static let maximumAmountTextLength = 32

    /// "12,50 €", "-12,50 €", "0,05 €", "1 234,50 €". The space before € is a plain space, as on the
    /// terminal's display (`Money.display`), so that pages, mails and the terminal read alike.
    public static func amount(cents: Int64) -> String {
        let sign = cents < 0 ? "-" : ""
        let magnitude = cents.magnitude
        let euros = String(magnitude / 100)
        let rest = magnitude % 100
        var grouped = ""
        for (index, digit) in euros.enumerated() {
            if index > 0 && (euros.count - index) % 3 == 0 { grouped.append(thousandsSeparator) }
            grouped.append(digit)
        }
        return "\(sign)\(grouped),\(rest < 10 ? "0" : "")\(rest) €"
    }

    /// Parses an amount as a person types it into cents: "12,50", "12.50", "12", "12,5", " 12,50 € ",
    /// "1 234,50" (groups of three digits separated by a space, a no-break space or a narrow one).
    /// Refuses signs, more than two decimals, zero, and anything above `Money.maximumAmountCents`.
    public static func parseAmountCents(_ text: String) throws(FrenchAmountError) -> Int64 {
        guard text.count <= maximumAmountTextLength else { throw .notAnAmount }
        var body = text.trimmingCharacters(in: spaces)
        guard !body.isEmpty else { throw .empty }
        if body.hasSuffix("€") {
            body = String(body.dropLast()).trimmingCharacters(in: spaces)
            guard !body.isEmpty else { throw .empty }
        }
        if body.hasPrefix("-") { throw .negative }
        // At most one decimal separator, either a comma or a point.
        let separators = body.filter { $0 == "," || $0 == "." }
        guard separators.count <= 1 else { throw .notAnAmount }
        let parts = body.split(omittingEmptySubsequences: false, whereSeparator: isDecimalSeparator)
        let wholeText = String(parts[0])
        let fractionText = parts.count == 2 ? String(parts[1]) : ""
        guard !wholeText.isEmpty || !fractionText.isEmpty else { throw .notAnAmount }
        if parts.count == 2 && fractionText.isEmpty { throw .notAnAmount }   // "12," is a typing slip, not 12 €
        guard fractionText.allSatisfy(isASCIIDigit) else { throw .notAnAmount }
        guard fractionText.count <= 2 else { throw .tooManyDecimals }

        let groups: [String] = wholeText.split(omittingEmptySubsequences: false, whereSeparator: isGroupSeparator).map(String.init)
        guard groups.allSatisfy({ !$0.isEmpty && $0.allSatisfy(isASCIIDigit) }) || wholeText.isEmpty else { throw .notAnAmount }
        if groups.count > 1 {
            // Grouped thousands: the first group 1–3 digits, every other exactly 3.
            guard (1...3).contains(groups[0].count), groups.dropFirst().allSatisfy({ $0.count == 3 }) else { throw .notAnAmount }
        }
        let digits = groups.joined()
        // More digits than the largest amount has euros: refuse before any arithmetic can overflow.
        guard digits.count <= 9 else { throw .tooLarge }
        let euros = Int64(digits.isEmpty ? "0" : digits)!
        let fractionCents = fractionText.isEmpty ? 0 : (fractionText.count == 1 ? Int64(fractionText)! * 10 : Int64(fractionText)!)
        let cents = euros * 100 + fractionCents
        guard cents > 0 else { throw .zero }
        guard cents <= Money.maximumAmountCents else { throw .tooLarge }
        return cents
    }

    /// "26/05/2027".
    public static func date(_ day: LocalDate) -> String {
        "\(twoDigits(day.day))/\(twoDigits(day.month))/\(day.year)"
    }

    /// A date as a person types it ("14/03/2008", also "14/3/2008") or as an HTML date field sends it
    /// ("2008-03-14"); nil for anything else or a day that does not exist.
    public static func parseDate(_ text: String) -> LocalDate? {
        let trimmed = text.trimmingCharacters(in: spaces)
        guard trimmed.count <= 10 else { return nil }
        if let iso = LocalDate(iso: trimmed) { return iso }
        let parts = trimmed.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 3, (1...2).contains(parts[0].count), (1...2).contains(parts[1].count), parts[2].count == 4,
              parts.allSatisfy({ $0.allSatisfy(isASCIIDigit) }),
              let day = Int(parts[0]), let month = Int(parts[1]), let year = Int(parts[2]) else { return nil }
        return LocalDate(year: year, month: month, day: day)
    }

    /// A transaction's instant on the Paris wall clock: "26/05/2027 à 14:05".
    public static func dateTime(millis: Int64) -> String {
        let instant = Date(timeIntervalSince1970: TimeInterval(millis / 1000))
        let parts = ParisCalendar.calendar.dateComponents([.year, .month, .day, .hour, .minute], from: instant)
        let day = LocalDate(year: parts.year!, month: parts.month!, day: parts.day!)!
        return "\(date(day)) à \(twoDigits(parts.hour!)):\(twoDigits(parts.minute!))"
    }

    static let spaces = CharacterSet(charactersIn: " \t\u{00A0}\u{202F}")

    static func isDecimalSeparator(_ character: Character) -> Bool {
        character == "," || character == "."
    }

    static func isGroupSeparator(_ character: Character) -> Bool {
        character == " " || character == "\u{00A0}" || character == "\u{202F}"
    }

    static func isASCIIDigit(_ character: Character) -> Bool {
        character.isASCII && character.isNumber
    }

    static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : String(value) }
}

/// Why an amount typed by a person was refused; `message` is the sentence shown next to the field.
public enum FrenchAmountError: Error, Equatable, Sendable, CustomStringConvertible {
    case empty
    case notAnAmount
    case negative
    case tooManyDecimals
    case zero
    case tooLarge

    public var message: String {
        switch self {
        case .empty: return "Indique un montant, par exemple 12,50."
        case .notAnAmount: return "Le montant doit être un nombre d'euros, par exemple 12,50."
        case .negative: return "Le montant ne peut pas être négatif."
        case .tooManyDecimals: return "Le montant ne peut pas avoir plus de deux chiffres après la virgule."
        case .zero: return "Le montant doit être supérieur à 0,00 €."
        case .tooLarge: return "Le montant ne peut pas dépasser \(FrenchFormat.amount(cents: Money.maximumAmountCents))."
        }
    }

    public var description: String { message }
}
