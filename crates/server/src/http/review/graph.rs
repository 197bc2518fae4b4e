//! The linked-accounts picture: the order's account in the middle, the accounts sharing an
//! entity with it on a circle, each edge labelled with what they share and each account linking
//! to its page; an entity shared too widely to mean a link (a hub) is one node with its count,
//! never expanded. Plain SVG built on the server (no script), every text escaped by the template.

use riskdesk_service::review::{Hub, Neighbour};

pub struct Node {
    pub x: f64,
    pub y: f64,
    pub label: String,
    pub fraud: bool,
    /// The account's page; none for a hub.
    pub customer_id: Option<String>,
}

pub struct Edge {
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
    pub lx: f64,
    pub ly: f64,
    pub label: String,
    /// To a hub: drawn dashed.
    pub hub: bool,
}

pub struct Graph {
    pub width: f64,
    pub height: f64,
    pub center: Node,
    pub nodes: Vec<Node>,
    /// One node per hub entity, with how many accounts share it.
    pub hubs: Vec<Node>,
    pub edges: Vec<Edge>,
    /// Drawn accounts with confirmed fraud: what the picture's heading counts.
    pub fraud: usize,
}

fn short(id: &str) -> String {
    if id.chars().count() > 14 { format!("{}…", id.chars().take(13).collect::<String>()) } else { id.to_owned() }
}

pub fn layout(center_id: &str, center_fraud: bool, neighbours: &[Neighbour], hubs: &[Hub]) -> Graph {
    let count = neighbours.len() + hubs.len();
    let (w, h) = (640.0, if count > 12 { 520.0 } else { 400.0 });
    let (cx, cy) = (w / 2.0, h / 2.0);
    let r = (h / 2.0) - 50.0;
    let n = count.max(1) as f64;
    let at = |i: usize| {
        let a = std::f64::consts::TAU * i as f64 / n - std::f64::consts::FRAC_PI_2;
        (cx + r * 1.25 * a.cos(), cy + r * a.sin())
    };
    let edge = |x: f64, y: f64, label: String, hub: bool| Edge {
        x1: cx,
        y1: cy,
        x2: x,
        y2: y,
        lx: cx + (x - cx) * 0.55,
        ly: cy + (y - cy) * 0.55 - 4.0,
        label,
        hub,
    };
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    for (i, nb) in neighbours.iter().enumerate() {
        let (x, y) = at(i);
        edges.push(edge(x, y, nb.shared.join(", "), false));
        nodes.push(Node {
            x,
            y,
            label: short(&nb.customer_id),
            fraud: nb.fraud,
            customer_id: Some(nb.customer_id.clone()),
        });
    }
    let mut hub_nodes = Vec::new();
    for (j, hb) in hubs.iter().enumerate() {
        let (x, y) = at(neighbours.len() + j);
        edges.push(edge(x, y, hb.kind.replace('_', " "), true));
        hub_nodes.push(Node {
            x,
            y,
            label: format!("hub: {} accounts", hb.accounts),
            fraud: false,
            customer_id: None,
        });
    }
    Graph {
        width: w,
        height: h,
        center: Node { x: cx, y: cy, label: short(center_id), fraud: center_fraud, customer_id: None },
        fraud: neighbours.iter().filter(|n| n.fraud).count(),
        nodes,
        hubs: hub_nodes,
        edges,
    }
}
