//! The linked-accounts picture: the order's account in the middle, the accounts sharing an
//! entity with it on a circle, each edge labelled with what they share. Plain SVG built on the
//! server (no script), with every text escaped by the template.

use riskdesk_service::review::Neighbour;

pub struct Node {
    pub x: f64,
    pub y: f64,
    pub label: String,
    pub fraud: bool,
}

pub struct Edge {
    pub x1: f64,
    pub y1: f64,
    pub x2: f64,
    pub y2: f64,
    pub lx: f64,
    pub ly: f64,
    pub label: String,
    /// Through a hub entity: drawn dashed.
    pub hub: bool,
}

pub struct Graph {
    pub width: f64,
    pub height: f64,
    pub center: Node,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

fn short(id: &str) -> String {
    if id.chars().count() > 14 { format!("{}…", id.chars().take(13).collect::<String>()) } else { id.to_owned() }
}

pub fn layout(center_id: &str, center_fraud: bool, neighbours: &[Neighbour]) -> Graph {
    let (w, h) = (640.0, if neighbours.len() > 12 { 520.0 } else { 400.0 });
    let (cx, cy) = (w / 2.0, h / 2.0);
    let r = (h / 2.0) - 50.0;
    let n = neighbours.len().max(1) as f64;
    let mut nodes = Vec::new();
    let mut edges = Vec::new();
    for (i, nb) in neighbours.iter().enumerate() {
        let a = std::f64::consts::TAU * i as f64 / n - std::f64::consts::FRAC_PI_2;
        let (x, y) = (cx + r * 1.25 * a.cos(), cy + r * a.sin());
        edges.push(Edge {
            x1: cx,
            y1: cy,
            x2: x,
            y2: y,
            lx: cx + (x - cx) * 0.55,
            ly: cy + (y - cy) * 0.55 - 4.0,
            label: nb.shared.join(", "),
            hub: nb.via_hub,
        });
        nodes.push(Node { x, y, label: short(&nb.customer_id), fraud: nb.fraud });
    }
    Graph {
        width: w,
        height: h,
        center: Node { x: cx, y: cy, label: short(center_id), fraud: center_fraud },
        nodes,
        edges,
    }
}
