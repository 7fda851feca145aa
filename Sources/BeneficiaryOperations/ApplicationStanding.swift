import Ledger

/// Where a beneficiary's card application stands, for "Accueil" (contract §9): the statuses the guide's
/// reader sees, "Demande envoyée", "Validée par ton établissement", "Carte émise", "Refusée" with its reason.
public struct ApplicationStanding: Sendable, Equatable {
    public let status: ReviewStatus
    public let reason: String?

    public var label: String { status.label }

    /// The newest application of `dossier`, nil when there is none.
    public static func newest(dossier: String, ledger: Ledger) throws -> ApplicationStanding? {
        try ledger.read { tx in
            try tx.applications(dossier: dossier).first.map { ApplicationStanding(status: $0.status, reason: $0.reason) }
        }
    }
}
