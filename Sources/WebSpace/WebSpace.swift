import BeneficiaryOperations
import Foundation
import HDFDomain
import HTTPTypes
import Hummingbird
import HummingbirdAuth
import Ledger
import Logging
import Referentials
import ServiceLifecycle

/// The beneficiary web space (contract §8): `buildApplication` gives the Hummingbird application that
/// `beneficiary serve` runs and the tests drive. The routes are in `*Routes.swift`, each small; the rules
/// they apply live in BeneficiaryOperations, shared with the `beneficiary` verbs.
public enum WebSpace {
    /// `onListening` gets the port actually bound (useful with port 0).
    public static func buildApplication(configuration: WebConfiguration, logger: Logger? = nil,
                                        onListening: @escaping @Sendable (Int) -> Void = { _ in }) throws -> some ApplicationProtocol {
        let site = try Site(configuration: configuration)
        let router = buildRouter(site: site)
        return Application(router: router,
                           configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                                serverName: "hdf-beneficiary"),
                           // The session store's own task drops expired sessions (every 10 minutes); the sweeper
                           // deletes the files of drafts never sent.
                           services: [site.sessionDriver, UploadSweeper(site: site)],
                           onServerRunning: { channel in onListening(channel.localAddress?.port ?? configuration.port) },
                           logger: logger ?? Logger(label: "beneficiary-web"))
    }

    static func buildRouter(site: Site) -> Router<WebContext> {
        let router = Router(context: WebContext.self)
        router.add(middleware: SecurityHeadersMiddleware(pages: site.pages))
        router.add(middleware: SessionMiddleware(sessionStorage: site.sessionStorage,
                                                 defaultSessionExpiration: WebLimits.sessionLifetime))
        router.add(middleware: FormTokenMiddleware(pages: site.pages))
        site.addPublicRoutes(to: router)
        site.addAccountRoutes(to: router)
        site.addCardRoutes(to: router)
        site.addDirectoryRoutes(to: router)
        site.addSignupRoutes(to: router)
        site.addApplicationRoutes(to: router)
        site.addTHRRoutes(to: router)
        return router
    }
}

/// What every route shares: the ledger pool, the pages, the session store, the configuration.
struct Site: Sendable {
    let configuration: WebConfiguration
    let pool: LedgerPool
    let pages: Pages
    let sessionStorage: SessionStorage<WebSession>
    let sessionDriver: MemoryPersistDriver<ContinuousClock>
    /// The anti-robot step of "Créer mon compte".
    let antiRobot: AntiRobot
    /// The address and establishment référentiels, loaded once at start; nil when the environment has none
    /// (the card application pages then say they are not available).
    let referentials: Referentials?
    /// Where uploads are stored (0600, random names).
    let uploads: UploadStore

    init(configuration: WebConfiguration) throws {
        self.configuration = configuration
        self.pool = try LedgerPool(directory: configuration.directory)
        self.pages = try Pages()
        self.antiRobot = AntiRobot(difficultyBits: configuration.antiRobotBits)
        self.referentials = try? Referentials.load(directory: configuration.directory + "/" + Referentials.directoryName)
        self.uploads = UploadStore(environmentDirectory: configuration.directory)
        let cookie = SessionCookieParameters(name: "hdf_session", path: "/", secure: configuration.secureCookies, sameSite: .lax)
        self.sessionDriver = MemoryPersistDriver(configuration: .init())
        self.sessionStorage = SessionStorage(sessionDriver, configuration: .init(sessionCookieParameters: cookie))
    }

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// The visitor's session, created (with a form token) when there is none yet.
    func ensureSession(_ context: WebContext) -> WebSession {
        if let session = context.sessions.session { return session }
        let session = WebSession.anonymous()
        context.sessions.createSession(session, expiresIn: WebLimits.anonymousSessionLifetime)
        return session
    }

    /// The logged-in beneficiary, or nil (the route then redirects to the connection page).
    func currentUser(_ context: WebContext) async throws -> (identity: WebAccounts.Identity, session: WebSession)? {
        guard let session = context.sessions.session, let id = session.beneficiaryID else { return nil }
        let identity = try await pool.accounts { try $0.identity(beneficiaryID: id) }
        return (identity, session)
    }

    /// Runs `body` for a logged-in beneficiary; anyone else goes to the connection page.
    func withUser(_ context: WebContext,
                  _ body: (WebAccounts.Identity, WebSession, UserView) async throws -> Response) async throws -> Response {
        guard let (identity, session) = try await currentUser(context) else { return Self.redirect("/connexion") }
        return try await body(identity, session, UserView(firstName: identity.firstName, lastName: identity.lastName))
    }

    /// Runs `body` for a logged-in beneficiary who has a card.
    func withCard(_ context: WebContext,
                  _ body: (PAN, WebAccounts.Identity, WebSession, UserView) async throws -> Response) async throws -> Response {
        try await withUser(context) { identity, session, user in
            guard let pan = identity.pan else {
                return pages.page("ma-carte", title: "Ma carte", values: ["tabs": Pages.tabs(current: "/ma-carte")],
                                  user: user, formToken: session.formToken, menuItem: "/ma-carte")
            }
            return try await body(pan, identity, session, user)
        }
    }

    static func form(_ request: Request) async throws -> FormFields {
        var request = request
        return FormFields(body: try await request.collectBody(upTo: WebLimits.maximumFormBytes))
    }
}

/// Deletes, every `WebLimits.uploadSweepInterval`, the uploads no application or THR request names and
/// older than `WebLimits.abandonedUploadAge` (a draft lives in a session of an hour at most): the disk a
/// beneficiary can fill with drafts never sent stays bounded.
struct UploadSweeper: Service {
    let site: Site

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            await site.sweepAbandonedUploads()
            // A graceful shutdown (SIGTERM) ends the wait at once.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: WebLimits.uploadSweepInterval) }
        }
    }
}

extension Site {
    func sweepAbandonedUploads() async {
        let cutoff = Date().addingTimeInterval(-WebLimits.abandonedUploadAge.timeInterval)
        let uploads = self.uploads
        _ = try? await pool.run { ledger in
            let referenced = try ledger.read { try $0.referencedUploads() }
            return uploads.sweep(olderThan: cutoff, keeping: referenced)
        }
    }
}
