use brunt::prelude::*;

mod nested {
    use brunt::prelude::*;

    #[brunt::stress]
    pub async fn phases_only(s: &mut Stress) -> anyhow::Result<()> {
        s.phase("setup");
        s.event("note", "no load declared");
        s.finding(Severity::Info, "nothing to drive", "this scenario only records");
        Ok(())
    }
}

#[brunt::stress()]
async fn empty(_s: &mut Stress) -> anyhow::Result<()> {
    Ok(())
}

fn main() {
    brunt::main()
}
