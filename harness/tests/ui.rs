//! Compile-time behaviour of `#[brunt::stress]`: every mistake is a compile
//! error on the offending token (the `.stderr` files pin the messages), and
//! every valid form compiles.

#[test]
fn attribute_errors_and_valid_forms() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
