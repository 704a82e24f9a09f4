//! The keyboard-shortcut help: a modal dialog that lists every shortcut, opened with `?`.
//! Escape (or Close, or a click beside it) closes it; while it is open, Tab stays inside it,
//! and closing it gives focus back to where it was.

use gloo::events::EventListener;
use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlElement};
use yew::prelude::*;

/// Every shortcut of the page: the keys, and what they do.
pub const SHORTCUTS: [(&str, &str); 11] = [
    ("?", "Show or hide this list"),
    (
        "Esc",
        "Close this list; in a diagram, close the packet detail",
    ),
    ("Tab / Shift+Tab", "Move between controls"),
    ("Enter", "Open the connection of the focused table row"),
    ("↑ / ↓", "Previous / next packet of the diagram"),
    ("Home / End", "First / last packet of the diagram"),
    (
        "n / p",
        "Next / previous problem packet (a reset, or anything the analysis flagged)",
    ),
    ("+ / −", "Zoom the diagram in / out"),
    ("t", "Show times in UTC or in this browser's local time"),
    ("s", "Show relative or absolute sequence numbers"),
    (
        "Alt+←",
        "Back from a diagram to the table (the browser's Back)",
    ),
];

#[derive(Properties, PartialEq)]
pub struct ShortcutHelpProps {
    pub on_close: Callback<()>,
}

/// What can take focus inside the dialog, in document order.
fn focusables(dialog: &Element) -> Vec<HtmlElement> {
    let Ok(list) = dialog.query_selector_all("button, [href], input, select, textarea") else {
        return Vec::new();
    };
    (0..list.length())
        .filter_map(|i| list.item(i)?.dyn_into::<HtmlElement>().ok())
        .collect()
}

/// The keyboard-shortcut help.
#[component]
pub fn ShortcutHelp(props: &ShortcutHelpProps) -> Html {
    let dialog = use_node_ref();
    let close = use_node_ref();
    {
        let (dialog, close) = (dialog.clone(), close.clone());
        use_effect_with((), move |()| {
            let document = gloo::utils::document();
            let previous = document
                .active_element()
                .and_then(|e| e.dyn_into::<HtmlElement>().ok());
            if let Some(button) = close.cast::<HtmlElement>() {
                let _ = button.focus();
            }
            // Focus that leaves the dialog (a click beside it, say) comes back.
            let on_focus = EventListener::new(&document, "focusin", move |event| {
                let (Some(dialog), Some(target)) = (
                    dialog.cast::<Element>(),
                    event
                        .target()
                        .and_then(|t| t.dyn_into::<web_sys::Node>().ok()),
                ) else {
                    return;
                };
                if !dialog.contains(Some(&target)) {
                    if let Some(first) = focusables(&dialog).first() {
                        let _ = first.focus();
                    }
                }
            });
            move || {
                drop(on_focus);
                if let Some(previous) = previous {
                    let _ = previous.focus();
                }
            }
        });
    }
    let on_key = {
        let (dialog, on_close) = (dialog.clone(), props.on_close.clone());
        Callback::from(move |event: KeyboardEvent| match event.key().as_str() {
            "Escape" | "?" => {
                event.prevent_default();
                event.stop_propagation();
                on_close.emit(());
            }
            "Tab" => {
                let Some(dialog) = dialog.cast::<Element>() else {
                    return;
                };
                let items = focusables(&dialog);
                let (Some(first), Some(last)) = (items.first(), items.last()) else {
                    event.prevent_default();
                    return;
                };
                let active = gloo::utils::document().active_element();
                let at = |e: &HtmlElement| active.as_ref() == Some(e.unchecked_ref::<Element>());
                if event.shift_key() && (at(first) || active.is_none()) {
                    event.prevent_default();
                    let _ = last.focus();
                } else if !event.shift_key() && at(last) {
                    event.prevent_default();
                    let _ = first.focus();
                }
            }
            _ => {}
        })
    };
    let on_backdrop = {
        let on_close = props.on_close.clone();
        Callback::from(move |event: MouseEvent| {
            let backdrop = event.target() == event.current_target();
            if backdrop {
                on_close.emit(());
            }
        })
    };
    let on_close = {
        let on_close = props.on_close.clone();
        Callback::from(move |_: MouseEvent| on_close.emit(()))
    };
    html! {
        <div class="shortcut-help" onclick={on_backdrop}>
            <div class="shortcut-help__dialog" ref={dialog} role="dialog" aria-modal="true"
                aria-labelledby="shortcut-help-title" onkeydown={on_key}>
                <h2 class="shortcut-help__title" id="shortcut-help-title">{ "Keyboard shortcuts" }</h2>
                <table class="shortcut-help__list">
                    <tbody>
                        { for SHORTCUTS.iter().map(|(keys, what)| html! {
                            <tr key={*keys} class="shortcut-help__item">
                                <th scope="row" class="shortcut-help__keys"><kbd>{ *keys }</kbd></th>
                                <td class="shortcut-help__what">{ *what }</td>
                            </tr>
                        }) }
                    </tbody>
                </table>
                <button type="button" class="shortcut-help__close" ref={close} onclick={on_close}>{ "Close" }</button>
            </div>
        </div>
    }
}
