//! The UI's TypeScript, generated from the command set (`commands.rs`) and the types it names
//! (ts-rs): `ui/src/generated/api.ts`. `cargo run -p postern-api --bin postern-bindings` writes
//! it; a test fails when the checked-in file is stale.

use std::collections::BTreeMap;

use ts_rs::{Config, TypeVisitor, TS};

/// What the bindings are made of: every type's declaration, and the commands.
pub(crate) struct Bindings {
    cfg: Config,
    decls: BTreeMap<String, String>,
    commands: Vec<String>,
}

struct Collect<'a> {
    cfg: &'a Config,
    decls: &'a mut BTreeMap<String, String>,
}

impl TypeVisitor for Collect<'_> {
    fn visit<T: TS + 'static + ?Sized>(&mut self) {
        if T::output_path().is_some() {
            let name = T::ident(self.cfg);
            if self.decls.contains_key(&name) {
                return;
            }
            let docs = T::docs().unwrap_or_default();
            self.decls
                .insert(name, format!("{docs}export {}", T::decl(self.cfg)));
        }
        T::visit_dependencies(self);
        T::visit_generics(self);
    }
}

impl Bindings {
    fn add<T: TS + 'static + ?Sized>(&mut self) -> String {
        Collect {
            cfg: &self.cfg,
            decls: &mut self.decls,
        }
        .visit::<T>();
        T::name(&self.cfg)
    }

    pub(crate) fn command<A: TS + 'static, R: TS + 'static>(&mut self, name: &str, docs: &[&str]) {
        let (args, result) = (self.add::<A>(), self.add::<R>());
        let doc: String = docs.iter().map(|d| format!("  /**{d} */\n")).collect();
        self.commands.push(format!(
            "{doc}  {name}: {{ args: {args}; result: {result} }};"
        ));
    }
}

/// The generated TypeScript: every argument and view type, `ErrorKind`, and `Commands` (each
/// command's arguments and result).
pub fn typescript() -> String {
    let mut b = Bindings {
        // Numbers in these views are counts, sizes, ids and Unix times: JSON numbers.
        cfg: Config::new().with_large_int("number"),
        decls: BTreeMap::new(),
        commands: Vec::new(),
    };
    crate::commands::declare(&mut b);
    b.add::<crate::ApiError>();
    b.add::<postern_core::EventView>();
    b.add::<postern_core::Notification>();
    let mut out = String::from(
        "// Generated from crates/postern-api (the command set) by\n\
         // `cargo run -p postern-api --bin postern-bindings`. Do not edit.\n\n",
    );
    for decl in b.decls.values() {
        out.push_str(decl);
        out.push_str("\n\n");
    }
    out.push_str(
        "/** Every command: its arguments and its result. */\nexport interface Commands {\n",
    );
    for c in &b.commands {
        out.push_str(c);
        out.push('\n');
    }
    out.push_str("}\n");
    out
}
