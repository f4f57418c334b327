{* SMILE bridge: the direct-ship surcharge as its own line in the order summary. *}
{if $cart.smile_direct_ship == "Y" && $cart.smile_direct_ship_surcharge > 0}
<tr class="ty-checkout-summary__item">
    <td class="ty-checkout-summary__item-title">{__("smile_bridge.direct_ship_surcharge")} ({$cart.smile_direct_ship_rate}%)</td>
    <td class="ty-checkout-summary__item-price">{include file="common/price.tpl" value=$cart.smile_direct_ship_surcharge}</td>
</tr>
{/if}
