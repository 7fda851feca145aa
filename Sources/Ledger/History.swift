import Foundation
import HDFDomain

/// The beneficiary's view: a card's history and where the card can be used.
extension LedgerTransaction {
    /// The card's history, newest first. Each line's signed amount is what it did to the wallet's
    /// available balance, so the lines of one wallet add up to that wallet's available balance:
    /// loads (+), card purchases (−) and their reversals (+), voucher holds (−) and their releases when
    /// cancelled or expired (+), online payments (−), partner cancellations (+).
    public func history(cardID: Int64, limit: Int = 1_000) throws -> [HistoryEntry] {
        let sql = """
            WITH RECURSIVE \(Self.cardPaymentsChain)
            SELECT at, kind, label, partner, wallet, amount, status, reference, ord FROM (
              SELECT l.created_at_ms AS at, 'load' AS kind, 'Chargement' AS label, NULL AS partner, w.code AS wallet,
                     l.amount_cents AS amount, 'posted' AS status, '' AS reference, l.transfer_id AS ord
                FROM loads l JOIN wallets w ON w.id = l.wallet_id WHERE w.card_id = ?1
              UNION ALL
              SELECT p.created_at_ms, p.kind, CASE p.kind WHEN 'online' THEN p.label ELSE pa.name END, pa.name, w.code,
                     -p.amount_cents, p.status, p.txn, p.transfer_id
                FROM card_payments cp JOIN payments p ON p.txn = cp.txn
                JOIN wallets w ON w.id = p.wallet_id JOIN partners pa ON pa.id = p.partner_id
                WHERE p.kind IN ('purchase', 'online')
              UNION ALL
              SELECT t.created_at_ms, 'reversal', 'Annulation par le terminal – ' || pa.name, pa.name, w.code,
                     p.amount_cents, 'posted', p.txn, t.id
                FROM card_payments cp JOIN payments p ON p.txn = cp.txn
                JOIN wallets w ON w.id = p.wallet_id JOIN partners pa ON pa.id = p.partner_id
                JOIN transfers t ON t.id = p.undo_transfer_id
                WHERE p.status = 'reversed' AND p.kind = 'purchase'
              UNION ALL
              SELECT c.created_at_ms, 'refund', 'Remboursement – ' || pa.name, pa.name, w.code,
                     c.amount_cents, 'posted', c.txn, c.transfer_id
                FROM card_payments cp JOIN payments p ON p.txn = cp.txn JOIN cancellations c ON c.original_txn = p.txn
                JOIN wallets w ON w.id = p.wallet_id JOIN partners pa ON pa.id = p.partner_id
              UNION ALL
              SELECT v.created_at_ms, 'voucher', 'Bon de prépaiement – ' || pa.name, pa.name, w.code,
                     -v.amount_cents, v.status, v.code, v.hold_transfer_id
                FROM vouchers v JOIN wallets w ON w.id = v.wallet_id JOIN partners pa ON pa.id = v.partner_id
                WHERE v.card_id = ?1
              UNION ALL
              SELECT v.resolved_at_ms, 'voucher.release',
                     CASE v.status WHEN 'cancelled' THEN 'Bon annulé – ' ELSE 'Bon expiré – ' END || pa.name, pa.name, w.code,
                     v.amount_cents, v.status, v.code, t.resolved_by
                FROM vouchers v JOIN wallets w ON w.id = v.wallet_id JOIN partners pa ON pa.id = v.partner_id
                JOIN transfers t ON t.id = v.hold_transfer_id
                WHERE v.card_id = ?1 AND v.status IN ('cancelled', 'expired')
            ) ORDER BY at DESC, ord DESC LIMIT ?2
            """
        return try db.rows(sql, cardID, limit) { row in
            HistoryEntry(atMillis: row.int(0), kind: row.text(1), label: Self.historyLabel(kind: row.text(1), label: row.text(2), wallet: row.text(4)),
                         partner: row.optionalText(3), wallet: WalletCode(rawValue: row.text(4)) ?? .manuels,
                         amountCents: row.int(5), status: row.text(6), reference: row.text(7))
        }
    }

    static func historyLabel(kind: String, label: String, wallet: String) -> String {
        guard kind == "load" else { return label }
        return "Chargement – " + (WalletCode(rawValue: wallet)?.label ?? wallet)
    }

    /// Partners where cards can be used, filtered by name, city and category, ignoring case and accents
    /// ("amiens" finds "AMIENS", "equipement" finds "Équipement").
    public func searchPartners(name: String?, city: String?, category: String?) throws -> [PartnerRecord] {
        func fold(_ text: String) -> String {
            text.folding(options: [.caseInsensitive, .diacriticInsensitive], locale: Locale(identifier: "fr_FR"))
        }
        let wantedName = name.map(fold)
        let wantedCity = city.map(fold)
        let wantedCategory = category.map(fold)
        return try allPartners().filter { partner in
            if let wantedName, !fold(partner.name).contains(wantedName) { return false }
            if let wantedCity, !fold(partner.city).contains(wantedCity) { return false }
            if let wantedCategory, !(fold(partner.category.rawValue).contains(wantedCategory)
                                     || fold(partner.category.label).contains(wantedCategory)) { return false }
            return true
        }
    }
}
