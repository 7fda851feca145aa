/// The one stylesheet (served at /style.css): mobile first, readable at 360 px wide with no horizontal
/// scrolling, a left menu from 900 px up. Colours meet WCAG AA contrast on white (checked by axe).
enum Stylesheet {
    static let css = """
    *, *::before, *::after { box-sizing: border-box; }
    html { font-size: 100%; }
    body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; color: #1b1b1b;
           background: #f4f6fb; line-height: 1.5; overflow-wrap: anywhere; }
    a { color: #00468c; }
    a:focus, button:focus, input:focus, select:focus { outline: 3px solid #f0a500; outline-offset: 2px; }
    .evitement { position: absolute; left: -10000px; top: 0; }
    .evitement:focus { left: 0.5rem; background: #fff; padding: 0.5rem; z-index: 10; }
    .masque { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
    .bandeau { background: #00468c; color: #fff; padding: 0.75rem 1rem; display: flex; flex-wrap: wrap;
               justify-content: space-between; align-items: center; gap: 0.5rem; }
    .bandeau a { color: #fff; text-decoration: none; font-weight: 700; }
    .marque { margin: 0; font-size: 1.15rem; }
    .marque span { font-weight: 400; font-size: 0.95rem; margin-left: 0.4rem; }
    .qui { margin: 0; }
    .cadre { display: block; max-width: 72rem; margin: 0 auto; }
    .menu { background: #fff; border-bottom: 1px solid #d0d5e0; }
    .menu ul { list-style: none; margin: 0; padding: 0.5rem; display: flex; flex-wrap: wrap; gap: 0.25rem; }
    .menu a, .lien-bouton { display: inline-block; padding: 0.5rem 0.75rem; border-radius: 0.4rem; color: #00468c;
                            text-decoration: none; font: inherit; }
    .menu a[aria-current="page"] { background: #00468c; color: #fff; font-weight: 700; }
    .lien-bouton { background: none; border: 1px solid #00468c; cursor: pointer; }
    main { padding: 1rem; background: #fff; min-width: 0; }
    h1 { font-size: 1.5rem; color: #00468c; margin-top: 0.25rem; }
    h2 { font-size: 1.2rem; margin-top: 1.5rem; }
    .formulaire { display: grid; gap: 0.9rem; max-width: 32rem; }
    .recherche { max-width: 48rem; }
    .champ { display: grid; gap: 0.3rem; }
    label, legend { font-weight: 600; }
    input[type="text"], input[type="password"], input[type="email"], input[type="tel"], input[type="number"], input:not([type]), select {
        width: 100%; padding: 0.6rem; border: 1px solid #5a6275; border-radius: 0.4rem; font: inherit; background: #fff; }
    input[aria-invalid="true"], select[aria-invalid="true"] { border: 2px solid #b00020; }
    fieldset { border: 1px solid #d0d5e0; border-radius: 0.4rem; padding: 0.75rem; }
    .case { display: flex; gap: 0.5rem; align-items: center; margin: 0.3rem 0; }
    button, .bouton { display: inline-block; background: #00468c; color: #fff; border: 0; border-radius: 0.4rem;
                      padding: 0.65rem 1.1rem; font: inherit; font-weight: 600; cursor: pointer; text-decoration: none; }
    button.secondaire { background: #fff; color: #8a0019; border: 2px solid #8a0019; }
    .erreur { color: #b00020; margin: 0; font-weight: 600; }
    .alerte { color: #8a0019; background: #fdecee; border-left: 4px solid #b00020; padding: 0.6rem 0.8rem; }
    .info { background: #eaf2fb; border-left: 4px solid #00468c; padding: 0.6rem 0.8rem; }
    .confirmation { border: 2px solid #1d6b33; background: #edf7ef; padding: 0.8rem; border-radius: 0.4rem; }
    .code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: 1.1rem; font-weight: 700; }
    .liens { list-style: none; padding: 0; display: grid; gap: 0.4rem; }
    .onglets ul { list-style: none; padding: 0; margin: 0 0 1rem; display: flex; flex-wrap: wrap; gap: 0.3rem; }
    .onglets a { display: inline-block; padding: 0.4rem 0.6rem; border: 1px solid #00468c; border-radius: 0.4rem;
                 text-decoration: none; }
    .onglets a[aria-current="page"] { background: #00468c; color: #fff; }
    .cartes { list-style: none; padding: 0; display: grid; gap: 0.75rem; }
    .cartes li { border: 1px solid #d0d5e0; border-radius: 0.5rem; padding: 0.75rem; }
    .cartes p { margin: 0.2rem 0; }
    .nom { font-weight: 700; }
    .actions { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: center; }
    .actions form { margin: 0; }
    table { border-collapse: collapse; width: 100%; display: block; overflow-x: auto; }
    caption { text-align: left; font-weight: 600; padding: 0.3rem 0; }
    th, td { text-align: left; padding: 0.45rem; border-bottom: 1px solid #d0d5e0; vertical-align: top; }
    .montant { white-space: nowrap; }
    .fiche { display: grid; grid-template-columns: minmax(0, 1fr); gap: 0.2rem; }
    .fiche dt { font-weight: 700; margin-top: 0.5rem; }
    .fiche dd { margin: 0; }
    .porte-monnaie { padding-left: 1.2rem; }
    .plan svg { width: 100%; height: auto; max-width: 40rem; }
    .etape { margin: 0 0 0.3rem; font-weight: 600; }
    .etapes { list-style: none; padding: 0; margin: 0 0 1rem; display: flex; flex-wrap: wrap; gap: 0.3rem; counter-reset: etape; }
    .etapes li { counter-increment: etape; padding: 0.2rem 0.5rem; border: 1px solid #d0d5e0; border-radius: 1rem; font-size: 0.9rem; }
    .etapes li::before { content: counter(etape) ". "; }
    .etapes li[aria-current="step"] { background: #00468c; color: #fff; border-color: #00468c; font-weight: 700; }
    input[type="file"] { font: inherit; width: 100%; max-width: 100%; }
    .apercu svg { border: 2px solid #5a6275; border-radius: 0.3rem; max-width: 100%; height: auto; }
    .adresse { font-weight: 600; }
    .pied { background: #1b2a4a; color: #fff; padding: 1rem; margin-top: 1rem; }
    .pied ul { list-style: none; margin: 0 auto; padding: 0; display: flex; flex-wrap: wrap; gap: 0.5rem 1.2rem; max-width: 72rem; }
    .pied a { color: #fff; }
    @media (min-width: 900px) {
        .avec-menu { display: grid; grid-template-columns: 15rem minmax(0, 1fr); gap: 1rem; padding: 1rem; }
        .menu { border: 1px solid #d0d5e0; border-radius: 0.5rem; align-self: start; }
        .menu ul { flex-direction: column; }
        main { border-radius: 0.5rem; padding: 1.5rem; margin: 1rem 0; }
        .avec-menu main { margin: 0; }
        .fiche { grid-template-columns: 14rem minmax(0, 1fr); }
        .fiche dt { margin-top: 0; }
    }
    """
}
