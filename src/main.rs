fn main() {
    println!("kdpipe");
}
